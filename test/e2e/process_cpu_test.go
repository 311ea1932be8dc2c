package e2e_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHz is the unit of the CPU times in /proc/<pid>/stat: 100 on every Linux this runs on
// (the kernel's USER_HZ, fixed for user space whatever the kernel's own tick).
const userHz = 100

// processCPU returns the user plus system CPU time the process pid has used, from Linux's
// /proc; ok is false where that is not available (other systems, or the process is gone).
func processCPU(pid int) (cpu time.Duration, ok bool) {
	if pid <= 0 {
		return 0, false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: the fields that follow its closing
	// parenthesis are numbered from 3 (state); utime and stime are fields 14 and 15.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, false
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / userHz, true
}
