package dynamodb

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// writeBatch writes at most BatchSize items, writing again the items
// DynamoDB leaves unprocessed and retrying failed requests, with an
// exponential backoff, Attempts requests in all. Items are counted as
// sent, failed (attempts exhausted, or an error retrying cannot fix) or
// dropped (Shutdown stopped waiting).
func (e *Exporter) writeBatch(ctx context.Context, batch []item) {
	client, err := e.dynamo(ctx)
	if err == nil && e.cfg.CreateTable {
		err = e.ensureTable(ctx, client)
	}
	if err != nil {
		e.giveUp(ctx, len(batch), err)
		return
	}
	pending := batch
	delay := e.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		reqs := make([]types.WriteRequest, len(pending))
		for i, it := range pending {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		rctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		out, err := client.BatchWriteItem(rctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{e.cfg.Table: reqs},
		})
		cancel()
		e.requests.Add(1)
		if err == nil {
			left := out.UnprocessedItems[e.cfg.Table]
			e.sent.Add(uint64(len(pending) - len(left)))
			if len(left) == 0 {
				return
			}
			pending = pending[:0]
			for _, w := range left {
				if w.PutRequest != nil {
					pending = append(pending, w.PutRequest.Item)
				}
			}
			err = errUnprocessed
		}
		if permanent(err) || attempt >= e.cfg.Attempts || ctx.Err() != nil {
			e.giveUp(ctx, len(pending), err)
			return
		}
		e.retries.Add(1)
		if !sleep(ctx, jitter(delay)) {
			e.giveUp(ctx, len(pending), ctx.Err())
			return
		}
		delay = min(2*delay, e.cfg.MaxBackoff)
	}
}

var errUnprocessed = errors.New("DynamoDB left items unprocessed (throughput exceeded)")

// giveUp counts n items as failed, or as dropped when Shutdown stopped
// waiting, and warns.
func (e *Exporter) giveUp(ctx context.Context, n int, err error) {
	if ctx.Err() != nil {
		e.dropped.Add(uint64(n))
		return
	}
	e.failed.Add(uint64(n))
	hint := ""
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) && !e.cfg.CreateTable {
		hint = " (TRACEGEN_DYNAMODB_CREATE_TABLE=true creates it)"
	}
	e.warn.Printf("table %s: %d spans not written: %v%s", e.cfg.Table, n, err, hint)
}

// permanent reports whether err is the client's fault in a way that
// sending again cannot fix (a missing table, a refused item, no access):
// a 4xx answer other than throttling. Throttling, 5xx answers and
// transport errors are not.
func permanent(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"LimitExceededException", "TransactionInProgressException":
			return false
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode() >= 400 && resp.HTTPStatusCode() < 500
	}
	return api != nil && api.ErrorFault() == smithy.FaultClient
}

// jitter returns a delay between d/2 and d.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
