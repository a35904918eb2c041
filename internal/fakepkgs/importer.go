// Package fakepkgs type-checks small stand-in packages written as Go
// source strings, so that tests can type-check code importing them
// in-process: no go command, no module cache, no export data. Only
// tests import it (instrument's fuzz test and rules' matcher tests).
package fakepkgs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
)

// Importer is a types.Importer for the packages of Sources. Each is
// parsed (as "<import path>.go", so type errors name it) and type-checked
// the first time it is imported, with the same Importer for its own
// imports, and kept. An Importer is not safe for concurrent use.
type Importer struct {
	fset    *token.FileSet
	sources map[string]string
	pkgs    map[string]*types.Package
}

// NewImporter returns an Importer of sources (import path → the source
// of a single-file package) that records positions in fset.
func NewImporter(fset *token.FileSet, sources map[string]string) *Importer {
	return &Importer{fset: fset, sources: sources, pkgs: map[string]*types.Package{}}
}

// Import returns the type-checked package path, or an error when sources
// has no such package or it does not type-check.
func (im *Importer) Import(path string) (*types.Package, error) {
	if p := im.pkgs[path]; p != nil {
		return p, nil
	}
	src, ok := im.sources[path]
	if !ok {
		return nil, fmt.Errorf("no fake package %q", path)
	}
	f, err := parser.ParseFile(im.fset, path+".go", src, 0)
	if err != nil {
		return nil, err
	}
	p, err := (&types.Config{Importer: im}).Check(path, im.fset, []*ast.File{f}, nil)
	if err != nil {
		return nil, err
	}
	im.pkgs[path] = p
	return p, nil
}
