// Package auth manages Herald accounts and browser sessions: password and
// username rules, bcrypt hashing, session cookies, CSRF protection, login
// rate limiting and GitHub sign-in.
//
// The socket layer authenticates an Engine.IO handshake with
// [Auth.UserFromRequest]; the HTTP pages use the rest. Everything here is
// safe for concurrent use once New has returned.
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-chat/herald/internal/store"
)

// Defaults used when the corresponding Config field is zero.
const (
	DefaultSessionTTL    = 7 * 24 * time.Hour
	DefaultCacheTTL      = 5 * time.Second
	DefaultCacheSize     = 10000
	DefaultLoginFailures = 10
	DefaultLoginWindow   = 15 * time.Minute
	DefaultLimiterSize   = 10000

	DefaultLoginFailuresPerAddress = 30
	DefaultLoginFailuresPerUser    = 100
	DefaultRegistrations           = 10
	DefaultRegistrationWindow      = time.Hour
	DefaultBcryptWait              = 10 * time.Second
)

// MinSecretLen is the shortest Config.Secret New accepts.
const MinSecretLen = 16

// Config configures an Auth. Users, Sessions and Secret are required; every
// other zero field takes the documented default.
type Config struct {
	// Users and Sessions are where accounts and sessions live.
	Users    store.UserStore
	Sessions store.SessionStore

	// Secret keys the HMAC that signs the CSRF cookie of signed-out forms
	// (SESSION_SECRET). At least MinSecretLen bytes; keep it stable across
	// restarts and identical on every node, or open forms stop working.
	Secret []byte

	// BcryptCost is the bcrypt work factor for new password hashes:
	// bcrypt.DefaultCost (10) when zero. Tests use bcrypt.MinCost.
	BcryptCost int

	// SessionTTL is how long a session lasts after sign-in: DefaultSessionTTL
	// when zero.
	SessionTTL time.Duration

	// SecureCookies marks every cookie Secure even when the request did not
	// arrive over TLS, for deployments behind a TLS-terminating proxy.
	SecureCookies bool

	// TrustProxyHeaders makes the client IP come from X-Forwarded-For and
	// the scheme from X-Forwarded-Proto. Enable it only behind a proxy that
	// sets them, or clients can spoof their address to dodge rate limits.
	TrustProxyHeaders bool

	// AllowedOrigins lists extra origins ("https://chat.example.com") from
	// which form POSTs are accepted, besides the server's own.
	AllowedOrigins []string

	// PublicURL is the address users open ("https://chat.example.com"),
	// when it differs from what requests arrive on: behind a
	// TLS-terminating proxy. Its origin is then the server's own, the only
	// one accepted besides AllowedOrigins. Empty: the request's own scheme,
	// host and port.
	PublicURL string

	// CacheTTL is how long UserFromRequest may reuse a session lookup:
	// DefaultCacheTTL when zero, no caching when negative. Logout through
	// this Auth invalidates the entry at once; a session deleted elsewhere
	// (another node) may be honoured for up to CacheTTL.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached sessions: DefaultCacheSize
	// when zero.
	CacheSize int

	// The login limits, each counting failed logins within LoginWindow
	// (DefaultLoginWindow when zero) and refusing further attempts until the
	// window ends:
	//  - LoginFailures (DefaultLoginFailures) for one username from one
	//    client address: a guesser is slowed, the owner elsewhere is not;
	//  - LoginFailuresPerAddress (DefaultLoginFailuresPerAddress) from one
	//    address, whatever the usernames: a sprayer of many names;
	//  - LoginFailuresPerUser (DefaultLoginFailuresPerUser) for one username
	//    from every address together: a distributed guesser. Past it only
	//    addresses the account has signed in from (within SessionTTL) may
	//    still try, so failures from elsewhere never lock the owner out of
	//    an address they use.
	LoginFailures           int
	LoginFailuresPerAddress int
	LoginFailuresPerUser    int
	LoginWindow             time.Duration
	// Registrations accounts may be created from one client address within
	// RegistrationWindow; further attempts get ErrTooManyAccounts. Defaults
	// DefaultRegistrations and DefaultRegistrationWindow.
	Registrations      int
	RegistrationWindow time.Duration
	// LimiterSize bounds how many keys each limiter remembers (usernames,
	// addresses, pairs): DefaultLimiterSize when zero. The oldest are
	// forgotten first.
	LimiterSize int

	// BcryptConcurrency bounds the bcrypt computations running at once
	// (hashing and checking passwords), so that they cannot take every core
	// from the pages and sockets: half of GOMAXPROCS (at least 1) when zero.
	// A request waits at most BcryptWait (DefaultBcryptWait) for a slot,
	// then gets ErrBusy.
	BcryptConcurrency int
	BcryptWait        time.Duration

	// GitHub configures "Login with GitHub". It is disabled unless both
	// ClientID and ClientSecret are set.
	GitHub GitHubConfig

	// Now returns the current time: time.Now when nil. Tests set it to
	// move the rate limiter's and cache's clocks.
	Now func() time.Time
}

// Auth signs users up and in, and tells requests' users apart. Create it with
// New. It is safe for concurrent use.
type Auth struct {
	// OnLogout, when set, is called after Logout has deleted a session,
	// with the session's ID (as returned by UserFromRequest) and its user
	// (0 if the session had already expired). The app uses it to
	// disconnect every socket of that session. Set it before serving
	// requests; it is read without synchronisation. It must not block for
	// long: it runs inside the /logout request.
	OnLogout func(sessionID string, userID int64)

	users    store.UserStore
	sessions store.SessionStore
	cfg      Config
	csrfKey  []byte
	// publicOrigin is Config.PublicURL's origin, or empty.
	publicOrigin string
	now          func() time.Time
	cache        *sessionCache
	byPair       *limiter // login failures per lower-cased username and client IP
	byIP         *limiter // login failures per client IP
	byName       *limiter // login failures per lower-cased username, from anywhere
	signedIn     *limiter // username and client IP pairs that signed in lately (one "failure" marks one)
	signUps      *limiter // registrations per client IP
	bcrypt       *bcryptSlots
	github       *github // nil when not configured
	dummy        func() []byte
}

// New validates cfg and returns a ready Auth.
func New(cfg Config) (*Auth, error) {
	if cfg.Users == nil || cfg.Sessions == nil {
		return nil, errors.New("auth: Config.Users and Config.Sessions are required")
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: Config.Secret must be at least %d bytes", MinSecretLen)
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: BcryptCost %d outside [%d, %d]", cfg.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	cfg.SessionTTL = orDefault(cfg.SessionTTL, DefaultSessionTTL)
	cfg.CacheTTL = orDefault(cfg.CacheTTL, DefaultCacheTTL)
	cfg.CacheSize = orDefault(cfg.CacheSize, DefaultCacheSize)
	cfg.LoginFailures = orDefault(cfg.LoginFailures, DefaultLoginFailures)
	cfg.LoginWindow = orDefault(cfg.LoginWindow, DefaultLoginWindow)
	cfg.LoginFailuresPerAddress = orDefault(cfg.LoginFailuresPerAddress, DefaultLoginFailuresPerAddress)
	cfg.LoginFailuresPerUser = orDefault(cfg.LoginFailuresPerUser, DefaultLoginFailuresPerUser)
	cfg.Registrations = orDefault(cfg.Registrations, DefaultRegistrations)
	cfg.RegistrationWindow = orDefault(cfg.RegistrationWindow, DefaultRegistrationWindow)
	cfg.BcryptConcurrency = orDefault(cfg.BcryptConcurrency, max(1, runtime.GOMAXPROCS(0)/2))
	cfg.BcryptWait = orDefault(cfg.BcryptWait, DefaultBcryptWait)
	cfg.LimiterSize = orDefault(cfg.LimiterSize, DefaultLimiterSize)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var publicOrigin string
	if cfg.PublicURL != "" {
		o, ok := normalOrigin(cfg.PublicURL)
		if !ok {
			return nil, fmt.Errorf("auth: PublicURL %q is not an http or https URL", cfg.PublicURL)
		}
		publicOrigin = o
	}

	a := &Auth{
		users:        cfg.Users,
		sessions:     cfg.Sessions,
		cfg:          cfg,
		csrfKey:      deriveKey(cfg.Secret, "herald csrf cookie v1"),
		publicOrigin: publicOrigin,
		now:          cfg.Now,
		cache:        newSessionCache(cfg.CacheTTL, cfg.CacheSize),
		byPair:       newLimiter(cfg.LoginFailures, cfg.LoginWindow, cfg.LimiterSize),
		byIP:         newLimiter(cfg.LoginFailuresPerAddress, cfg.LoginWindow, cfg.LimiterSize),
		byName:       newLimiter(cfg.LoginFailuresPerUser, cfg.LoginWindow, cfg.LimiterSize),
		signedIn:     newLimiter(1, cfg.SessionTTL, cfg.LimiterSize),
		signUps:      newLimiter(cfg.Registrations, cfg.RegistrationWindow, cfg.LimiterSize),
		bcrypt:       newBcryptSlots(cfg.BcryptConcurrency, cfg.BcryptWait),
		dummy:        dummyHash(cfg.BcryptCost),
	}
	if cfg.GitHub.enabled() {
		gh, err := newGitHub(cfg.GitHub)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		a.github = gh
	}
	return a, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// secure reports whether cookies set in reply to r should be Secure.
func (a *Auth) secure(r *http.Request) bool {
	if a.cfg.SecureCookies || r.TLS != nil {
		return true
	}
	return a.cfg.TrustProxyHeaders && r.Header.Get("X-Forwarded-Proto") == "https"
}
