package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// tableWait bounds how long CreateTable waits for a new table to become
// active.
const tableWait = 2 * time.Minute

// ensureTable creates the table once per exporter, trying again at the
// next batch when it failed.
func (e *Exporter) ensureTable(ctx context.Context, client *dynamodb.Client) error {
	e.tableMu.Lock()
	defer e.tableMu.Unlock()
	if e.tableReady {
		return nil
	}
	if err := createTable(ctx, client, e.cfg); err != nil {
		return err
	}
	e.tableReady = true
	return nil
}

// CreateTable creates the exporter's table with its conversation index
// (on-demand capacity) when it does not exist, and waits until it is
// active. TRACEGEN_DYNAMODB_CREATE_TABLE=true makes the exporter call it
// before its first write. Enable time to live on expire_at separately
// where wanted.
func (e *Exporter) CreateTable(ctx context.Context) error {
	client, err := e.dynamo(ctx)
	if err != nil {
		return err
	}
	return e.ensureTable(ctx, client)
}

func createTable(ctx context.Context, client *dynamodb.Client, cfg Config) error {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(name string, t types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: t}
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(cfg.Table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s("pk"), s("sk"), s("conversation_id")},
		KeySchema:            []types.KeySchemaElement{key("pk", types.KeyTypeHash), key("sk", types.KeyTypeRange)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String(cfg.ConversationIndex),
			KeySchema:  []types.KeySchemaElement{key("conversation_id", types.KeyTypeHash), key("sk", types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamodb exporter: creating table %s: %w", cfg.Table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 2*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)}, tableWait); err != nil {
		return fmt.Errorf("dynamodb exporter: waiting for table %s: %w", cfg.Table, err)
	}
	return nil
}

// Filter selects spans in [Exporter.Traces]. TraceID queries the table's
// partition of one trace; else ConversationID queries the conversation
// index; else the whole table is scanned (fine for a local table, costly
// for a large one). Attrs are compared with every span so found: a span
// matches when each of its attributes (own or inherited) named in Attrs
// has the value given, compared as DynamoDB compares values (the string
// "3" is not the number 3). Only spans of the exporter's Identifier are
// returned.
type Filter struct {
	TraceID        record.TraceID
	ConversationID string
	Attrs          map[string]any
}

// Traces returns the spans that match f, oldest first (by start time,
// then span id), read back from the table as [fromItem] describes: the
// attributes of a record are its own and its inherited ones merged, sorted
// by key; numbers come back as int64 when integral, else float64.
func (e *Exporter) Traces(ctx context.Context, f Filter) ([]*record.Record, error) {
	client, err := e.dynamo(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{":sk": str(skPrefix(e.cfg.Identifier))}
	keys := make([]string, 0, len(f.Attrs))
	for k := range f.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var conds []string
	for i, k := range keys {
		n, v := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[v] = k, valueAttr(record.AnyValue(f.Attrs[k]))
		conds = append(conds, "#attrs."+n+" = "+v)
	}
	var filter *string
	if len(conds) > 0 {
		names["#attrs"] = "attributes"
		filter = aws.String(strings.Join(conds, " AND "))
	} else {
		names = nil
	}
	var items []item
	switch {
	case f.TraceID.IsValid() || f.ConversationID != "":
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(e.cfg.Table),
			KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :sk)"),
			FilterExpression:          filter,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}
		if f.TraceID.IsValid() {
			values[":pk"] = str(pk(f.TraceID))
		} else {
			in.IndexName = aws.String(e.cfg.ConversationIndex)
			in.KeyConditionExpression = aws.String("conversation_id = :c AND begins_with(sk, :sk)")
			values[":c"] = str(f.ConversationID)
		}
		items, err = query(ctx, client, in)
	default:
		scanFilter := "begins_with(sk, :sk)"
		if filter != nil {
			scanFilter += " AND " + *filter
		}
		items, err = scan(ctx, client, &dynamodb.ScanInput{
			TableName:                 aws.String(e.cfg.Table),
			FilterExpression:          aws.String(scanFilter),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("dynamodb exporter: reading table %s: %w", e.cfg.Table, err)
	}
	return records(items)
}

func query(ctx context.Context, client *dynamodb.Client, in *dynamodb.QueryInput) ([]item, error) {
	var items []item
	p := dynamodb.NewQueryPaginator(client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

func scan(ctx context.Context, client *dynamodb.Client, in *dynamodb.ScanInput) ([]item, error) {
	var items []item
	p := dynamodb.NewScanPaginator(client, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

func records(items []item) ([]*record.Record, error) {
	recs := make([]*record.Record, 0, len(items))
	for _, it := range items {
		r, err := fromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb exporter: item %s %s: %w", getS(it, "pk"), getS(it, "sk"), err)
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].Start.Equal(recs[j].Start) {
			return recs[i].Start.Before(recs[j].Start)
		}
		return string(recs[i].SpanID[:]) < string(recs[j].SpanID[:])
	})
	return recs, nil
}
