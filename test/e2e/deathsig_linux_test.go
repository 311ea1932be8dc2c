package e2e_test

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel kill cmd's process if the test process dies first, so that a
// crashed test leaves no helper process (a load balancer) behind.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
