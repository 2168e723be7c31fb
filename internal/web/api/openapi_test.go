package api

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
)

// The OpenAPI document is checked line by line (there is no YAML library in
// go.mod): it is written so that under "paths:" every path key is a line
// "  /path:", every operation a line "    method:" below it, and each
// operation's permission and roles lines "      x-permission: PERM" and
// "      x-roles: [role, ...]".

const specFile = "../../../docs/openapi.yaml"

var (
	specPathRE   = regexp.MustCompile(`^  (/\S*):\s*$`)
	specMethodRE = regexp.MustCompile(`^    (get|put|post|patch|delete|head|options|trace):\s*$`)
	specKeyRE    = regexp.MustCompile(`^    \S`)
	specPermRE   = regexp.MustCompile(`^      x-permission:\s*(\S+)\s*$`)
	specRolesRE  = regexp.MustCompile(`^      x-roles:\s*\[(.*)\]\s*$`)

	// routeCallRE matches the calls in Register: route("GET /api/v1/x", access.Perm, ...).
	routeCallRE = regexp.MustCompile(`route\(\s*"([A-Z]+) (/[^"]*)"\s*,\s*access\.(\w+)`)
	// patternRE matches any method-qualified route pattern written as a Go string.
	patternRE = regexp.MustCompile(`"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE) (/[^"\s]*)"`)
	// permissionRE matches the permission constants of package access.
	permissionRE = regexp.MustCompile(`(\w+)\s+Permission\s*=\s*"([^"]+)"`)
	// wildcardRE matches a {name} or {name...} path wildcard.
	wildcardRE = regexp.MustCompile(`\{[^}]*\}`)
)

// specOp is one operation documented in the spec.
type specOp struct {
	line       int
	permission string
	roles      []string
	hasRoles   bool
}

// spec is what the line-based reading of the OpenAPI document found.
type spec struct {
	paths map[string]int     // path → line of its key
	ops   map[string]*specOp // "METHOD /path" → operation
}

func readSpec(t *testing.T) spec {
	t.Helper()
	f, err := os.Open(specFile)
	if err != nil {
		t.Fatalf("the API must be documented in docs/openapi.yaml: %v", err)
	}
	defer f.Close()
	s := spec{paths: map[string]int{}, ops: map[string]*specOp{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	inPaths, sawPaths := false, false
	curPath := ""
	var cur *specOp
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "paths:" {
			inPaths, sawPaths = true, true
			continue
		}
		if line != "" && line[0] != ' ' && line[0] != '#' {
			inPaths = false // another top-level key
		}
		if !inPaths {
			continue
		}
		if m := specPathRE.FindStringSubmatch(line); m != nil {
			curPath, cur = m[1], nil
			if prev, dup := s.paths[curPath]; dup {
				t.Errorf("%s:%d: path %s is listed twice (first at line %d)", specFile, n, curPath, prev)
			}
			s.paths[curPath] = n
			continue
		}
		if m := specMethodRE.FindStringSubmatch(line); m != nil {
			if curPath == "" {
				t.Fatalf("%s:%d: method %s before any path", specFile, n, m[1])
			}
			key := strings.ToUpper(m[1]) + " " + curPath
			if prev, dup := s.ops[key]; dup {
				t.Errorf("%s:%d: %s is documented twice (first at line %d)", specFile, n, key, prev.line)
			}
			cur = &specOp{line: n}
			s.ops[key] = cur
			continue
		}
		if specKeyRE.MatchString(line) {
			cur = nil // a path-level key such as parameters: ends the operation
			continue
		}
		if cur == nil {
			continue
		}
		if m := specPermRE.FindStringSubmatch(line); m != nil {
			cur.permission = strings.Trim(m[1], `'"`)
		} else if m := specRolesRE.FindStringSubmatch(line); m != nil {
			cur.hasRoles = true
			for r := range strings.SplitSeq(m[1], ",") {
				if r = strings.Trim(strings.TrimSpace(r), `'"`); r != "" {
					cur.roles = append(cur.roles, r)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", specFile, err)
	}
	if !sawPaths {
		t.Fatalf("%s has no top-level paths: key", specFile)
	}
	return s
}

// goSources returns the contents of the non-test Go files of dir, by file name.
func goSources(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

// sourceRoute is a route found in the source of Register.
type sourceRoute struct {
	key        string // "METHOD /path"
	permConst  string // the access constant's name
	permission string // its value
}

// apiRoutes returns the routes that Register adds, read from the route(...)
// calls in api.go, with the permission each needs.
func apiRoutes(t *testing.T) []sourceRoute {
	t.Helper()
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	perms := map[string]string{}
	for _, b := range goSources(t, filepath.Join("..", "..", "access")) {
		for _, m := range permissionRE.FindAllSubmatch(b, -1) {
			perms[string(m[1])] = string(m[2])
		}
	}
	if len(perms) == 0 {
		t.Fatal("found no Permission constants in internal/access; update this test to how they are declared")
	}
	var out []sourceRoute
	seen := map[string]bool{}
	for _, m := range routeCallRE.FindAllSubmatch(src, -1) {
		r := sourceRoute{key: string(m[1]) + " " + string(m[2]), permConst: string(m[3])}
		if seen[r.key] {
			t.Errorf("api.go registers %s twice", r.key)
		}
		seen[r.key] = true
		p, ok := perms[r.permConst]
		if !ok {
			t.Errorf("%s: permission access.%s not found among the Permission constants of internal/access", r.key, r.permConst)
		}
		r.permission = p
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatal(`found no route("METHOD /path", access.Perm, ...) calls in api.go; update this test to how Register adds routes`)
	}
	return out
}

// samplePath fills the wildcards of a route pattern's path with an id.
func samplePath(p string) string { return wildcardRE.ReplaceAllString(p, "1") }

// rolesWith lists, in the order of access.Roles, the roles that have perm.
func rolesWith(perm access.Permission) []string {
	var out []string
	for _, r := range access.Roles {
		if r.Can(perm) {
			out = append(out, string(r))
		}
	}
	return out
}

func TestOpenAPIDocumentsEveryAPIRoute(t *testing.T) {
	s := readSpec(t)
	routes := apiRoutes(t)

	// The routes as the mux really has them: every route read from the
	// source must be matched by its own pattern.
	mux := http.NewServeMux()
	a := &API{}
	a.Register(mux)
	matched := func(key string) string {
		method, path, _ := strings.Cut(key, " ")
		_, pattern := mux.Handler(httptest.NewRequest(method, samplePath(path), nil))
		return pattern
	}
	registered := map[string]sourceRoute{}
	for _, r := range routes {
		if got := matched(r.key); got != r.key {
			t.Errorf("api.go has route(%q, ...) but the mux matches %q for it", r.key, got)
		}
		registered[r.key] = r
	}

	// Every other method-qualified /api/ pattern in the package must go through
	// route(), so that it has a permission and is seen here.
	for name, b := range goSources(t, ".") {
		for _, m := range patternRE.FindAllSubmatch(b, -1) {
			key := string(m[1]) + " " + string(m[2])
			if !strings.HasPrefix(string(m[2]), "/api/") {
				continue
			}
			if _, ok := registered[key]; !ok {
				t.Errorf("%s: pattern %q is not registered through route(...) with a permission", name, key)
			}
		}
	}

	// Registered → documented, with the permission and roles of the code.
	keys := make([]string, 0, len(registered))
	for k := range registered {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		r := registered[key]
		op, ok := s.ops[key]
		if !ok {
			method, path, _ := strings.Cut(key, " ")
			t.Errorf("route %s is not documented in docs/openapi.yaml: add %q under paths: with %q below it", key, "  "+path+":", "    "+strings.ToLower(method)+":")
			continue
		}
		if op.permission != r.permission {
			t.Errorf("%s:%d: %s needs permission %s (access.%s) but is documented with x-permission %q", specFile, op.line, key, r.permission, r.permConst, op.permission)
		}
		want := rolesWith(access.Permission(r.permission))
		if !op.hasRoles {
			t.Errorf("%s:%d: %s has no x-roles line; want x-roles: [%s]", specFile, op.line, key, strings.Join(want, ", "))
		} else if !slices.Equal(op.roles, want) {
			t.Errorf("%s:%d: %s is documented with x-roles %v; the roles with %s are %v", specFile, op.line, key, op.roles, r.permission, want)
		}
	}

	// Documented → registered.
	for key, op := range s.ops {
		_, path, _ := strings.Cut(key, " ")
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		if _, ok := registered[key]; !ok {
			t.Errorf("%s:%d: %s is documented but api.go registers no such route (the mux matches %q)", specFile, op.line, key, matched(key))
		}
	}
}

// TestOpenAPIDocumentsServerAndEventRoutes checks the routes outside /api/v1:
// the health and metrics routes of internal/web/server.go, and the paths of
// the event API in internal/channel/segment.
func TestOpenAPIDocumentsServerAndEventRoutes(t *testing.T) {
	s := readSpec(t)

	server, err := os.ReadFile(filepath.Join("..", "server.go"))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range patternRE.FindAllSubmatch(server, -1) {
		found++
		// "/{$}" is the mux's spelling of exactly "/".
		key := string(m[1]) + " " + strings.ReplaceAll(string(m[2]), "{$}", "")
		if _, ok := s.ops[key]; !ok {
			t.Errorf("internal/web/server.go serves %s, which docs/openapi.yaml does not document", key)
		}
	}
	if found == 0 {
		t.Error("found no route patterns in internal/web/server.go; update this test")
	}

	// The event API is a table of paths; each is documented as a path key
	// (pointing at a shared path item).
	segRouteRE := regexp.MustCompile(`\{\s*"(/v1/[^"]*)"\s*,\s*"[a-z]*"\s*\}`)
	var segPaths []string
	for _, b := range goSources(t, filepath.Join("..", "..", "channel", "segment")) {
		for _, m := range segRouteRE.FindAllSubmatch(b, -1) {
			segPaths = append(segPaths, string(m[1]))
		}
	}
	if len(segPaths) == 0 {
		t.Log("no event API route table found in internal/channel/segment; its paths are not checked")
		return
	}
	for _, p := range segPaths {
		if _, ok := s.paths[p]; !ok {
			t.Errorf("the event API serves %s, which docs/openapi.yaml does not document", p)
		}
	}
	for p, line := range s.paths {
		if strings.HasPrefix(p, "/v1/") && !slices.Contains(segPaths, p) {
			t.Errorf("%s:%d: %s is documented but the event API has no such path", specFile, line, p)
		}
	}
}

// TestOpenAPISpecReader makes sure the line-based reader sees what it should,
// so that a change of layout cannot make the checks above pass vacuously.
func TestOpenAPISpecReader(t *testing.T) {
	s := readSpec(t)
	op, ok := s.ops["GET /api/v1/customers/{id}"]
	if !ok {
		t.Fatal("the reader found no GET /api/v1/customers/{id}; is the spec still laid out as the reader expects?")
	}
	if op.permission == "" || !op.hasRoles {
		t.Errorf("the reader found no x-permission or x-roles for GET /api/v1/customers/{id}: %+v", op)
	}
	if bytes.Contains(mustRead(t, specFile), []byte("\t")) {
		t.Error("docs/openapi.yaml contains a tab; YAML indentation must be spaces")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
