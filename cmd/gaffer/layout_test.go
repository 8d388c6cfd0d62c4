package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform"
)

// modulePath is this repository's Go module.
const modulePath = "github.com/gaffer-sre/gaffer/"

// TestSystemsFollowTheLayout walks the registered modules and checks the
// rule of docs/ARCHITECTURE.md ("The shape of a system"): the folder, the
// package and the role have one name; the folder starts with a doc.go that
// documents the package; the leaf package <name>api exists and declares
// that name; and a system whose code writes tables brings migrations, and
// one with migrations registers them.
func TestSystemsFollowTheLayout(t *testing.T) {
	modules, err := platform.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) < 10 {
		t.Fatalf("only %d modules registered", len(modules))
	}
	for _, m := range modules {
		t.Run(m.Name, func(t *testing.T) {
			dir := moduleDir(t, m)
			if base := filepath.Base(dir); base != m.Name {
				t.Errorf("module %q lives in folder %s", m.Name, dir)
			}
			if pkg := packageName(t, dir); pkg != m.Name {
				t.Errorf("module %q is package %q", m.Name, pkg)
			}
			checkDoc(t, dir, m.Name)
			checkLeaf(t, dir, m.Name)
			checkMigrations(t, dir, m)
		})
	}
}

// moduleDir finds the folder of the package whose constructor m.New is,
// relative to the repository root.
func moduleDir(t *testing.T, m platform.Module) string {
	t.Helper()
	fn := runtime.FuncForPC(reflect.ValueOf(m.New).Pointer()).Name()
	slash := strings.LastIndex(fn, "/")
	dot := strings.Index(fn[slash+1:], ".")
	if !strings.HasPrefix(fn, modulePath) || dot < 0 {
		t.Fatalf("module %q: constructor %s is not in %s", m.Name, fn, modulePath)
	}
	return filepath.Join("..", "..", filepath.FromSlash(fn[len(modulePath):slash+1+dot]))
}

// packageName returns the package clause shared by dir's non-test files.
func packageName(t *testing.T, dir string) string {
	t.Helper()
	names := map[string]bool{}
	for _, f := range goFiles(t, dir) {
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		names[af.Name.Name] = true
	}
	if len(names) != 1 {
		t.Fatalf("%s: package clauses %v", dir, names)
	}
	for n := range names {
		return n
	}
	return ""
}

func checkDoc(t *testing.T, dir, name string) {
	t.Helper()
	af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "doc.go"), nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Errorf("no doc.go: %v", err)
		return
	}
	if af.Doc == nil || !strings.HasPrefix(af.Doc.Text(), "Package "+name+" ") {
		t.Errorf("%s/doc.go does not start with the package comment \"Package %s …\"", dir, name)
		return
	}
	for _, link := range []string{"docs/"} {
		if !strings.Contains(af.Doc.Text(), link) {
			t.Errorf("%s/doc.go links no page under %s", dir, link)
		}
	}
}

func checkLeaf(t *testing.T, dir, name string) {
	t.Helper()
	leaf := filepath.Join(dir, name+"api")
	if pkg := packageName(t, leaf); pkg != name+"api" {
		t.Errorf("%s is package %q", leaf, pkg)
	}
	var found bool
	for _, f := range goFiles(t, leaf) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found = found || strings.Contains(string(b), "const Name = \""+name+"\"")
	}
	if !found {
		t.Errorf("%s does not declare const Name = %q", leaf, name)
	}
}

func checkMigrations(t *testing.T, dir string, m platform.Module) {
	t.Helper()
	sqls, _ := filepath.Glob(filepath.Join(dir, "migrations", "*.sql"))
	writes := false
	for _, f := range goFiles(t, dir) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writes = writes || strings.Contains(string(b), "INSERT INTO ")
		if strings.Contains(string(b), "CREATE TABLE") {
			t.Errorf("%s creates a table outside migrations/", f)
		}
	}
	switch {
	case writes && len(sqls) == 0:
		t.Errorf("%s writes tables but has no migrations/*.sql", dir)
	case len(sqls) > 0 && m.Migrations == nil:
		t.Errorf("%s has migrations/*.sql that its module does not register", dir)
	case len(sqls) == 0 && m.Migrations != nil:
		t.Errorf("module %q registers migrations but %s/migrations holds no .sql", m.Name, dir)
	}
}

// goFiles lists dir's non-test Go files.
func goFiles(t *testing.T, dir string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, "_test.go") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no Go files", dir)
	}
	return out
}
