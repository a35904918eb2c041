package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/tracegen-dev/tracegen/instrument"
	"github.com/tracegen-dev/tracegen/rules"
)

// rulesCommand implements `tracegen rules`: list the built-in LLM call rules.
func (a *app) rulesCommand() error {
	if code := runRules(nil, a.stdout, a.stderr); code != 0 {
		a.exitAtLeast(code)
		return errSilent
	}
	return nil
}

// runRules is the body of `tracegen rules`: the built-in rules, as a table
// and as the list of functions they match. It returns the exit code.
func runRules(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "tracegen: rules takes no arguments\n")
		return 2
	}
	if err := rules.List(stdout, rules.Builtin()); err != nil {
		fmt.Fprintf(stderr, "tracegen: rules: %v\n", err)
		return 1
	}
	return 0
}

// checkRulesFile validates the -rules file before anything is loaded:
// every problem is reported as file:line:col: keyword: message.
func (a *app) checkRulesFile(path string) error {
	_, err := rules.Load(path)
	if err == nil {
		return nil
	}
	var list rules.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			a.logf("%s", e)
		}
	} else {
		a.logf("-rules: %v", err)
	}
	return errUsage
}

// callRewriter returns the LLM call matcher: the built-in rules plus the
// -rules file (already validated by checkRulesFile).
func (a *app) callRewriter() instrument.CallRewriter {
	rs := rules.Builtin()
	if a.opts.rules != "" {
		if extra, err := rules.Load(a.opts.rules); err == nil {
			rs = append(append([]*rules.Rule(nil), rs...), extra...)
		}
	}
	return rules.NewMatcher(rs)
}

// setOverlayRules gives an overlay build the LLM call matcher, the import
// paths that make a file a candidate without any directive, and a key that
// changes when the -rules file does (built-in rules change with the tool).
func (a *app) setOverlayRules(ov *overlayBuild) {
	m := a.callRewriter()
	ov.calls = m
	for _, p := range m.Imports() {
		ov.callImports = append(ov.callImports, []byte(strconv.Quote(p)))
	}
	if a.opts.rules != "" {
		data, _ := os.ReadFile(a.opts.rules)
		sum := sha256.Sum256(data)
		ov.rulesKey = hex.EncodeToString(sum[:])
	}
}

// importsSDK reports whether a Go file imports a package a rule names (a
// cheap byte search; the rewriter checks the real imports).
func (ov *overlayBuild) importsSDK(data []byte) bool {
	for _, q := range ov.callImports {
		if bytes.Contains(data, q) {
			return true
		}
	}
	return false
}
