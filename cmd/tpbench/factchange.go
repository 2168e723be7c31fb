package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// factChange measures how soon a changed fact shows on a public page: it
// publishes new versions of a fact over the API and, from the moment the
// publish is answered, reads a help center page until the new value is on
// it.
func factChange(args []string) error {
	fs := flag.NewFlagSet("factchange", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server URL")
	token := fs.String("token", "", "API token that may publish knowledge")
	fact := fs.String("fact", "", "id of the fact to change")
	page := fs.String("page", "/help/articles/shipping-charges", "page that shows the fact")
	rounds := fs.Int("rounds", 20, "changes to make")
	fs.Parse(args)
	if *token == "" || *fact == "" {
		return errors.New("--token and --fact are required")
	}
	api := &apiClient{base: *base, token: *token, hc: http.DefaultClient}
	var lat latencies
	for i := range *rounds {
		value := fmt.Sprintf("tpbench value %d at %d", i, time.Now().UnixNano())
		var v struct {
			Version int `json:"version"`
		}
		if err := api.do("POST", "/api/v1/knowledge/facts/"+*fact+"/versions", map[string]any{"value": value}, &v); err != nil {
			return err
		}
		step := fmt.Sprintf("/api/v1/knowledge/facts/%s/versions/%d/", *fact, v.Version)
		if err := api.do("POST", step+"submit", nil, nil); err != nil {
			return err
		}
		if err := api.do("POST", step+"publish", nil, nil); err != nil {
			return err
		}
		t0 := time.Now()
		for {
			resp, err := http.Get(*base + *page)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), value) {
				break
			}
			if time.Since(t0) > 10*time.Second {
				return fmt.Errorf("%s did not show the new value within 10 s", *page)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	fmt.Printf("factchange: %d changes; publish answered → %s shows the new value: %s\n", len(lat), *page, lat.String())
	return nil
}
