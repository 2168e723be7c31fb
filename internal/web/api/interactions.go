package api

import (
	"net/http"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

// maxBatchBody bounds a batch request: 1,000 interactions of a few KB.
const maxBatchBody = 8 << 20

func (a *API) createInteraction(w http.ResponseWriter, r *http.Request) {
	var in interaction.Input
	if err := decode(w, r, maxBody, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := a.Interactions.Record(r.Context(), []interaction.Input{in})
	if err != nil {
		// A one-item batch error reads better as the item's own error.
		if b, ok := err.(*errs.Batch); ok && len(b.Items) == 1 {
			err = &errs.Invalid{Field: b.Items[0].Field, Reason: b.Items[0].Reason}
		}
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res[0].Duplicate {
		status = http.StatusOK
	}
	send(w, status, res[0])
}

func (a *API) createInteractionBatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Items []interaction.Input `json:"items"`
	}
	if err := decode(w, r, maxBatchBody, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	if len(body.Items) == 0 {
		a.fail(w, r, errs.Invalidf("items", "must hold at least one interaction"))
		return
	}
	if len(body.Items) > interaction.MaxBatch {
		a.fail(w, r, errs.Invalidf("items", "at most %d interactions per batch", interaction.MaxBatch))
		return
	}
	res, err := a.Interactions.Record(r.Context(), body.Items)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, list[interaction.Result]{Items: res})
}

func (a *API) getInteraction(w http.ResponseWriter, r *http.Request) {
	iid, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	it, err := a.Interactions.Get(r.Context(), iid)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, it)
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	customers, err := a.Customers.Count(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	interactions, err := a.Interactions.Count(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := map[string]int64{"customers": customers, "interactions": interactions}
	if a.Ingest != nil {
		out["ingest_backlog"] = int64(a.Ingest.Backlog())
	}
	send(w, http.StatusOK, out)
}
