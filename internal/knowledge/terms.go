package knowledge

import (
	"context"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// maxTermBytes leaves out of the vocabulary "words" no one types (hashes,
// long numbers).
const maxTermBytes = 40

// vocabulary splits texts into the distinct whole words the SQLite
// tokenizer (unicode61, remove_diacritics 2) makes of them: runs of letters
// and numbers, lower-cased, accents removed.
func vocabulary(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
			w = foldAccents(w)
			if w == "" || len(w) > maxTermBytes || seen[w] {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// foldAccents removes accents as the tokenizer does ("crème" is "creme"),
// for the vocabulary and for the word being typed alike.
func foldAccents(w string) string {
	fold := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	if f, _, err := transform.String(fold, w); err == nil {
		return f
	}
	return w
}

// addTerms adds the words of a published text to kb_terms (SQLite), the
// vocabulary that expands a word being typed.
func addTerms(ctx context.Context, tx *store.Tx, texts ...string) error {
	if tx.Dialect() != store.SQLite {
		return nil
	}
	words := vocabulary(texts...)
	for len(words) > 0 {
		n := min(len(words), 200)
		args := make([]any, n)
		for i, w := range words[:n] {
			args[i] = w
		}
		if _, err := tx.Exec(ctx, "INSERT INTO kb_terms (term) VALUES "+strings.TrimSuffix(strings.Repeat("(?), ", n), ", ")+" ON CONFLICT DO NOTHING", args...); err != nil {
			return err
		}
		words = words[n:]
	}
	return nil
}
