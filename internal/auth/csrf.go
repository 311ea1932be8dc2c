package auth

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// CSRFField is the name of the hidden form field that carries the CSRF
// token.
const CSRFField = "csrf_token"

// csrfCookie carries the signed double-submit token of signed-out forms.
const csrfCookie = "herald_csrf"

// CSRFToken returns the token to put in the CSRFField of a form rendered
// for r. A signed-in user gets the session's token. A signed-out visitor
// gets a signed double-submit token, set as a cookie on w too (or reused
// from r's cookie, so several open tabs all stay valid).
func (a *Auth) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if sess, _, ok := a.SessionFromRequest(r); ok {
		return sess.CSRFToken
	}
	if c, err := r.Cookie(csrfCookie); err == nil && a.validSignedToken(c.Value) {
		return c.Value
	}
	nonce := newToken()
	tok := nonce + "." + base64.RawURLEncoding.EncodeToString(sign(a.csrfKey, nonce))
	http.SetCookie(w, &http.Cookie{
		Name:     csrfCookie,
		Value:    tok,
		Path:     "/",
		HttpOnly: true,
		Secure:   a.secure(r),
		SameSite: http.SameSiteLaxMode,
	})
	return tok
}

// VerifyCSRF checks a form POST: its Origin (or Referer) must not name a
// foreign site (see CheckOrigin), and its CSRFField must equal either the
// signed-in session's token or a correctly signed double-submit cookie.
// Accepting either keeps a form working when its page was loaded before a
// sign-in or sign-out in another tab. It parses r's form if needed: cap
// r.Body first. It returns ErrForeignOrigin or ErrCSRF.
func (a *Auth) VerifyCSRF(r *http.Request) error {
	if err := a.CheckOrigin(r); err != nil {
		return err
	}
	got := r.PostFormValue(CSRFField)
	if got == "" {
		return ErrCSRF
	}
	if sess, _, ok := a.SessionFromRequest(r); ok && equal(got, sess.CSRFToken) {
		return nil
	}
	if c, err := r.Cookie(csrfCookie); err == nil && equal(got, c.Value) && a.validSignedToken(c.Value) {
		return nil
	}
	return ErrCSRF
}

// validSignedToken reports whether tok is "nonce.signature" with a valid
// signature under our key: a cookie planted by someone without the secret
// (say, from a sibling subdomain) is rejected.
func (a *Auth) validSignedToken(tok string) bool {
	nonce, sig, ok := strings.Cut(tok, ".")
	if !ok || !wellFormedToken(nonce) {
		return false
	}
	got, err := strictBase64.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, sign(a.csrfKey, nonce))
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
