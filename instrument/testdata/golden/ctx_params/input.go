package ctxparams

import (
	stdctx "context"
)

//trace:span
func blank(_ stdctx.Context, n int) int { return n }

//trace:span
func unnamed(stdctx.Context, int) {}

//trace:span
func notFirst(n int, ctx stdctx.Context) error {
	return ctx.Err()
}

//trace:span
func shadowedImport(context stdctx.Context) {
	_ = context
}

//trace:span
func shadowedInBody(ctx stdctx.Context) error {
	ctx, cancel := stdctx.WithCancel(ctx)
	defer cancel()
	{
		ctx := stdctx.Background()
		_ = ctx
	}
	return ctx.Err()
}

//trace:span
func twoContexts(a, b stdctx.Context) {
	_, _ = a, b
}

var ctx = stdctx.Background()

//trace:span
func usesOuterCtx(_ stdctx.Context) error {
	return ctx.Err()
}

type command struct{ ctx stdctx.Context }

// ExecuteContext keeps the caller's context: it is not rebound, so
// c.ctx == ctx still holds for the caller.
//
//trace:span
func (c *command) ExecuteContext(ctx stdctx.Context) error {
	c.ctx = ctx
	return nil
}

// passes only hands ctx to callees: it is rebound so they nest.
//
//trace:span
func passes(ctx stdctx.Context) error {
	ctx, cancel := stdctx.WithCancel(ctx)
	defer cancel()
	return notFirst(1, ctx)
}
