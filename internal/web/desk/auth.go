package desk

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
)

func (d *Desk) signInPage(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
	if c, err := r.Cookie(SessionCookie); err == nil {
		if _, err := d.Access.SessionByToken(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	d.render(w, r, "signin", nil, map[string]any{"Next": localNext(r.URL.Query().Get("next")), "Demo": d.demo(r)})
}

func (d *Desk) demo(r *http.Request) bool { return d.IsDemo != nil && d.IsDemo(r.Context()) }

// localNext keeps a post-sign-in redirect on this site.
func localNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (d *Desk) signIn(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
	// No session yet, so no CSRF token: a sign-in form posted from another
	// site is refused by its Origin.
	if !sameOrigin(r) {
		http.Error(w, "This form was sent from another site and was refused.", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	next := localNext(r.PostFormValue("next"))
	again := func(status int, msg string) {
		w.WriteHeader(status)
		d.render(w, r, "signin", nil, map[string]any{"Next": next, "Email": email, "Error": msg, "Demo": d.demo(r)})
	}
	if ok, wait := d.SignIns.Allow(clientIP(r)); !ok {
		w.Header().Set("Retry-After", itoa(int64(wait/time.Second)+1))
		again(http.StatusTooManyRequests, "Too many sign-in attempts from this address. Wait a minute and try again.")
		return
	}
	if email == "" || password == "" {
		again(http.StatusUnprocessableEntity, "Enter your email and your password.")
		return
	}
	u, err := d.Access.SignIn(r.Context(), email, password)
	if err != nil {
		again(http.StatusUnauthorized, "That email and password do not match an active user.")
		return
	}
	token, _, err := d.Access.StartSession(r.Context(), u.ID, r.UserAgent(), clientIP(r))
	if err != nil {
		d.Log.Error("starting a session", "err", err)
		again(http.StatusInternalServerError, "Signing in failed on our side; it has been logged.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https", MaxAge: int(access.SessionMaxAge / time.Second),
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Desk) signOut(w http.ResponseWriter, r *http.Request, v *viewer) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := d.Access.EndSession(r.Context(), c.Value); err != nil {
			d.fail(w, r, v, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (d *Desk) accountPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	d.render(w, r, "account", v, map[string]any{"Done": r.URL.Query().Get("done") != ""})
}

func (d *Desk) changePassword(w http.ResponseWriter, r *http.Request, v *viewer) {
	current, next, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("new_password_again")
	if next != again {
		w.WriteHeader(http.StatusUnprocessableEntity)
		d.render(w, r, "account", v, map[string]any{"Error": "The new password and its repetition differ."})
		return
	}
	if err := d.Access.ChangePassword(r.Context(), v.User.ID, current, next, v.Session.ID); err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		d.render(w, r, "account", v, map[string]any{"Error": err.Error()})
		return
	}
	http.Redirect(w, r, "/account?done=1", http.StatusSeeOther)
}
