package knowledge

import (
	"context"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// DiffLine is one line of a line diff: Op is " " (kept), "-" (only in the
// older version) or "+" (only in the newer).
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// FieldChange is a one-line field that differs between two versions.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Diff compares two versions.
type Diff struct {
	From   int           `json:"from"`
	To     int           `json:"to"`
	Fields []FieldChange `json:"fields"`
	Lines  []DiffLine    `json:"lines"` // of the body (articles) or value (facts)
}

// maxLCSCells bounds the table of the longest-common-subsequence diff; past
// it (after the common head and tail are cut) the middle is shown as
// removed then added, which is still correct, only less precise.
const maxLCSCells = 4_000_000

// DiffLines diffs a and b line by line: an LCS over the lines between the
// common head and tail.
func DiffLines(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	out := []DiffLine{}
	head := 0
	for head < len(x) && head < len(y) && x[head] == y[head] {
		head++
	}
	tail := 0
	for tail < len(x)-head && tail < len(y)-head && x[len(x)-1-tail] == y[len(y)-1-tail] {
		tail++
	}
	for _, l := range x[:head] {
		out = append(out, DiffLine{" ", l})
	}
	mx, my := x[head:len(x)-tail], y[head:len(y)-tail]
	if len(mx)*len(my) > maxLCSCells {
		for _, l := range mx {
			out = append(out, DiffLine{"-", l})
		}
		for _, l := range my {
			out = append(out, DiffLine{"+", l})
		}
	} else {
		out = append(out, lcsDiff(mx, my)...)
	}
	for _, l := range x[len(x)-tail:] {
		out = append(out, DiffLine{" ", l})
	}
	return out
}

// lcsDiff fills the suffix table of LCS lengths, then walks it from the
// start, preferring removals before additions at a change.
func lcsDiff(x, y []string) []DiffLine {
	n, m := len(x), len(y)
	w := m + 1
	t := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out = append(out, DiffLine{" ", x[i]})
			i++
			j++
		case t[(i+1)*w+j] >= t[i*w+j+1]:
			out = append(out, DiffLine{"-", x[i]})
			i++
		default:
			out = append(out, DiffLine{"+", y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{"-", x[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{"+", y[j]})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// Unified renders lines as text, one prefix character per line.
func Unified(lines []DiffLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Op)
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func fieldChanges(pairs ...[3]string) []FieldChange {
	out := []FieldChange{}
	for _, p := range pairs {
		if p[1] != p[2] {
			out = append(out, FieldChange{Field: p[0], From: p[1], To: p[2]})
		}
	}
	return out
}

// DiffArticle compares two versions of an article.
func (s *Service) DiffArticle(ctx context.Context, articleID id.ID, from, to int) (*Diff, error) {
	a, err := s.ArticleVersion(ctx, articleID, from)
	if err != nil {
		return nil, err
	}
	b, err := s.ArticleVersion(ctx, articleID, to)
	if err != nil {
		return nil, err
	}
	return &Diff{From: from, To: to,
		Fields: fieldChanges([3]string{"title", a.Title, b.Title}, [3]string{"category", a.Category, b.Category},
			[3]string{"audience", string(a.Audience), string(b.Audience)}),
		Lines: DiffLines(a.Body, b.Body)}, nil
}

// DiffFact compares two versions of a fact.
func (s *Service) DiffFact(ctx context.Context, factID id.ID, from, to int) (*Diff, error) {
	a, err := s.FactVersion(ctx, factID, from)
	if err != nil {
		return nil, err
	}
	b, err := s.FactVersion(ctx, factID, to)
	if err != nil {
		return nil, err
	}
	return &Diff{From: from, To: to, Fields: fieldChanges([3]string{"note", a.Note, b.Note}), Lines: DiffLines(a.Value, b.Value)}, nil
}
