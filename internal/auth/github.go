package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/herald-chat/herald/internal/store"
)

// GitHub's public endpoints, used when GitHubConfig leaves them empty.
const (
	GitHubAuthURL  = "https://github.com/login/oauth/authorize"
	GitHubTokenURL = "https://github.com/login/oauth/access_token"
	GitHubAPIURL   = "https://api.github.com"
)

// oauthStateCookie carries the state and PKCE verifier from the redirect to
// GitHub to the callback. Its path keeps it off every other request.
const (
	oauthStateCookie = "herald_oauth_state"
	oauthStatePath   = "/auth/github"
	oauthStateTTL    = 10 * time.Minute
)

// maxGitHubResponse caps how much of a GET /user reply is read.
const maxGitHubResponse = 1 << 20

// GitHubConfig configures "Login with GitHub" (an OAuth app's credentials).
// The endpoint URLs exist so tests can serve a fake GitHub; leave them empty
// in production.
type GitHubConfig struct {
	ClientID     string
	ClientSecret string
	// CallbackURL is the absolute URL of /auth/github/callback registered
	// with the OAuth app. Empty: derived from each request's host and
	// scheme, which is right unless a proxy rewrites them.
	CallbackURL string
	// AuthURL, TokenURL and APIURL default to GitHubAuthURL,
	// GitHubTokenURL and GitHubAPIURL.
	AuthURL, TokenURL, APIURL string
	// HTTPClient makes the calls to GitHub: a client with a 10 s timeout
	// when nil.
	HTTPClient *http.Client
}

func (c GitHubConfig) enabled() bool { return c.ClientID != "" && c.ClientSecret != "" }

// github is a configured OAuth client; immutable after newGitHub.
type github struct {
	oauth  oauth2.Config // RedirectURL set per request when derived
	fixed  bool          // CallbackURL was configured
	apiURL string
	client *http.Client
}

func newGitHub(c GitHubConfig) (*github, error) {
	g := &github{
		oauth: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			RedirectURL:  c.CallbackURL,
			Endpoint: oauth2.Endpoint{
				AuthURL:   orDefault(c.AuthURL, GitHubAuthURL),
				TokenURL:  orDefault(c.TokenURL, GitHubTokenURL),
				AuthStyle: oauth2.AuthStyleInParams,
			},
			// No scopes: GET /user with no scope returns the public
			// profile, which is all we use.
		},
		fixed:  c.CallbackURL != "",
		apiURL: strings.TrimSuffix(orDefault(c.APIURL, GitHubAPIURL), "/"),
		client: c.HTTPClient,
	}
	if g.client == nil {
		g.client = &http.Client{Timeout: 10 * time.Second}
	}
	for _, u := range []string{g.oauth.Endpoint.AuthURL, g.oauth.Endpoint.TokenURL, g.apiURL} {
		if _, err := url.ParseRequestURI(u); err != nil {
			return nil, fmt.Errorf("github: bad endpoint URL %q: %w", u, err)
		}
	}
	return g, nil
}

// config returns the OAuth config for a request, with its callback URL.
func (g *github) config(r *http.Request, secure bool) *oauth2.Config {
	c := g.oauth
	if !g.fixed {
		scheme := "http"
		if secure {
			scheme = "https"
		}
		c.RedirectURL = scheme + "://" + r.Host + oauthStatePath + "/callback"
	}
	return &c
}

// GitHubEnabled reports whether GitHub sign-in is configured.
func (a *Auth) GitHubEnabled() bool { return a.github != nil }

// GitHubAuthURL starts a GitHub sign-in: it sets a short-lived cookie
// holding a fresh state and PKCE verifier on w and returns the GitHub URL to
// redirect the browser to. It returns "" when GitHub is not configured.
func (a *Auth) GitHubAuthURL(w http.ResponseWriter, r *http.Request) string {
	if a.github == nil {
		return ""
	}
	state, verifier := newToken(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{
		Name:     oauthStateCookie,
		Value:    state + "." + verifier,
		Path:     oauthStatePath,
		MaxAge:   int(oauthStateTTL / time.Second),
		HttpOnly: true,
		Secure:   a.secure(r),
		// Lax, not Strict: the callback is a top-level navigation from
		// github.com, and Strict cookies are not sent on it.
		SameSite: http.SameSiteLaxMode,
	})
	return a.github.config(r, a.secure(r)).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// GitHubCallback finishes a GitHub sign-in on the request GitHub redirected
// back with: it checks the state against the cookie set by GitHubAuthURL,
// exchanges the code for a token, fetches the GitHub profile, finds or
// creates the linked user (a taken username gets a numeric suffix) and
// starts a session on w. Errors: ErrGitHubDisabled, ErrOAuthState (missing
// or mismatched state: nothing is created), ErrOAuthIncomplete (the user
// declined, or no code), or a wrapped failure talking to GitHub.
func (a *Auth) GitHubCallback(w http.ResponseWriter, r *http.Request) (store.User, error) {
	if a.github == nil {
		return store.User{}, ErrGitHubDisabled
	}
	// The state is single-use: clear it whatever the outcome.
	http.SetCookie(w, &http.Cookie{
		Name: oauthStateCookie, Value: "", Path: oauthStatePath, MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode,
	})
	q := r.URL.Query()
	c, err := r.Cookie(oauthStateCookie)
	if err != nil {
		return store.User{}, ErrOAuthState
	}
	want, verifier, ok := strings.Cut(c.Value, ".")
	got := q.Get("state")
	if !ok || !wellFormedToken(want) || verifier == "" || got == "" || !equal(got, want) {
		return store.User{}, ErrOAuthState
	}
	code := q.Get("code")
	if q.Get("error") != "" || code == "" {
		return store.User{}, ErrOAuthIncomplete
	}

	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.github.client)
	cfg := a.github.config(r, a.secure(r))
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return store.User{}, fmt.Errorf("github: exchange code: %w", err)
	}
	profile, err := a.github.fetchUser(ctx, cfg, tok)
	if err != nil {
		return store.User{}, err
	}

	u, err := a.users.ByGitHubID(ctx, profile.ID)
	if errors.Is(err, store.ErrNotFound) {
		u, err = a.users.CreateGitHubUser(ctx, profile.ID, gitHubUsername(profile.Login))
	}
	if err != nil {
		return store.User{}, fmt.Errorf("github: user %d: %w", profile.ID, err)
	}
	if _, err := a.StartSession(ctx, w, r, u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// gitHubProfile is the part of GET /user that Herald uses.
type gitHubProfile struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
}

func (g *github) fetchUser(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (gitHubProfile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.apiURL+"/user", nil)
	if err != nil {
		return gitHubProfile{}, fmt.Errorf("github: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "Herald") // GitHub's API rejects requests without one
	resp, err := cfg.Client(ctx, tok).Do(req)
	if err != nil {
		return gitHubProfile{}, fmt.Errorf("github: get user: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return gitHubProfile{}, fmt.Errorf("github: get user: status %s", resp.Status)
	}
	var p gitHubProfile
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxGitHubResponse)).Decode(&p); err != nil {
		return gitHubProfile{}, fmt.Errorf("github: decode user: %w", err)
	}
	if p.ID <= 0 || p.Login == "" {
		return gitHubProfile{}, fmt.Errorf("github: user reply lacks id or login")
	}
	return p, nil
}
