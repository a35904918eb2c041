// Package dynamodb is the DynamoDB exporter of tracegen: linked with a
// blank import, it stores finished spans in an Amazon DynamoDB table when
// TRACEGEN_EXPORTER=dynamodb, and reads them back with [Exporter.Traces].
//
//	import _ "github.com/tracegen-dev/tracegen/runtime/export/dynamodb"
//
// The table follows the design of the DynamoDB tracer of AWS's Generative
// AI Toolkit: one item per span, under partition key pk = "TRACE#<trace
// id>" and sort key sk = "SPAN#<identifier>#<start, microseconds since
// 1970 as 17 hex digits>#<span id>", so the spans of a trace are one
// partition in start order; a global secondary index (by_conversation_id by
// default) on conversation_id, the span's gen_ai.conversation.id attribute
// (own or inherited), with the same sort key, so a conversation's spans
// are one query; the span's attributes in a map attribute, which filters
// compare with attributes.<key> = value; and expire_at, seconds since 1970,
// for DynamoDB's time to live (enable TTL on that attribute; 30 days after
// the span's start by default). The identifier (default "_") separates the
// spans of several applications sharing one table.
//
// The model: the span pipeline of runtime/trace calls Export from its one
// batcher goroutine; Export turns the records into items and puts them in
// a bounded queue without touching the network, dropping and counting
// what does not fit. A writer goroutine of its own, running only while
// items are queued, writes them with BatchWriteItem, 25 items per request,
// and writes again the UnprocessedItems DynamoDB hands back (throttling)
// after an exponential backoff; a request that fails (the endpoint down,
// a timeout) is retried the same way a few times, then its items are
// counted as failed. Writing an item twice is harmless: its key is the
// same. Warnings go to stderr, one line per minute at most, and never
// contain credentials. Shutdown writes what is left within its deadline.
//
// Configuration ([ConfigFromEnv]): TRACEGEN_DYNAMODB_TABLE names the table
// (required); the region and credentials come from the AWS SDK's default
// chain (AWS_REGION, AWS_ACCESS_KEY_ID, shared config files, the instance
// role); TRACEGEN_DYNAMODB_ENDPOINT, or the SDK's own
// AWS_ENDPOINT_URL_DYNAMODB, points it at another endpoint (DynamoDB
// Local, dynalite); TRACEGEN_DYNAMODB_CREATE_TABLE=true creates the table
// and its index when missing (on-demand capacity; meant for local use).
//
// The package is a module of its own because the AWS SDK for Go v2 needs a
// newer Go than the runtime's go 1.23.
package dynamodb
