package desk

import "testing"

// Pages are parsed on first use, so a template that does not parse would
// only show when someone opens its page; this parses them all.
func TestEveryPageParses(t *testing.T) {
	pages := pageTemplates()
	if len(pages) < 20 {
		t.Fatalf("found %d page templates", len(pages))
	}
	for name, parse := range pages {
		tmpl, err := parse()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, block := range []string{"layout", "title", "content"} {
			if tmpl.Lookup(block) == nil {
				t.Errorf("%s: no %q block", name, block)
			}
		}
		if again, _ := parse(); again != tmpl {
			t.Errorf("%s: parsed again", name)
		}
	}
}
