package api

import (
	"net/http"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := a.Access.ListTokens(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*access.Token]{Items: ts})
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name       string      `json:"name"`
		Role       access.Role `json:"role"`
		TTLSeconds int64       `json:"ttl_seconds"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	if body.TTLSeconds < 0 {
		a.fail(w, r, errs.Invalidf("ttl_seconds", "must not be negative"))
		return
	}
	plain, t, err := a.Access.CreateToken(r.Context(), body.Name, body.Role, time.Duration(body.TTLSeconds)*time.Second, PrincipalFrom(r.Context()).Actor())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusCreated, createdToken{t, plain})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	tid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.Access.RevokeToken(r.Context(), tid, PrincipalFrom(r.Context()).Actor()); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.Access.ListUsers(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[*access.User]{Items: us})
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email    string      `json:"email"`
		Name     string      `json:"name"`
		Role     access.Role `json:"role"`
		Password string      `json:"password"`
	}
	if err := decode(w, r, maxBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	u, err := a.Access.CreateUser(r.Context(), body.Email, body.Name, body.Role, body.Password, PrincipalFrom(r.Context()).Actor())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusCreated, u)
}

// createdToken is the token listing plus the secret, shown once.
type createdToken struct {
	*access.Token
	Secret string `json:"token"`
}
