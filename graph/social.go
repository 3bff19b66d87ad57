package graph

import (
	"io"
	"net/http"

	"fleetgate/internal/social"
)

// The browser leg of social login (README "Social login"): the routes
// GET /auth/{provider}/start and /auth/{provider}/callback answer with
// redirects, never with a token.

func (d Deps) socialStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	location, cookie, err := d.auth.StartSocial(r.Context(), r.PathValue("provider"), q.Get("redirect"), q.Get("link"))
	if err != nil {
		d.Log.InfoContext(r.Context(), "social login refused at start", "provider", r.PathValue("provider"), "err", err)
	}
	if location == "" {
		refuseFlow(w, err)
		return
	}
	if cookie != nil {
		http.SetCookie(w, cookie)
	}
	noStore(w)
	http.Redirect(w, r, location, http.StatusFound)
}

func (d Deps) socialCallback(w http.ResponseWriter, r *http.Request) {
	target, err := d.auth.FinishSocial(r.Context(), r, r.PathValue("provider"))
	// Finished either way: the flow cannot be played again from this browser.
	http.SetCookie(w, d.auth.Social.ClearCookie())
	if err != nil {
		d.Log.InfoContext(r.Context(), "social login refused", "provider", r.PathValue("provider"), "err", err)
	}
	if target == "" {
		refuseFlow(w, err)
		return
	}
	noStore(w)
	http.Redirect(w, r, target, http.StatusFound)
}

// refuseFlow answers a flow that has no trustworthy target to return to.
func refuseFlow(w http.ResponseWriter, err error) {
	noStore(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, "sign-in refused ("+social.ErrorCode(err)+"): start again from the application\n")
}

// noStore keeps redirects that carry a code out of caches.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// authProviders lists the enabled providers for GraphQL.
func authProviders(all []social.ProviderConfig) []*social.ProviderConfig {
	out := make([]*social.ProviderConfig, len(all))
	for i := range all {
		out[i] = &all[i]
	}
	return out
}
