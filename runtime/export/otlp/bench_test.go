package otlp

import "testing"

// BenchmarkConvertEncode is the exporter's own work per span, without the
// network: converting a record (Export) and encoding it in a batch of 512
// (the sender), for each protocol.
func BenchmarkConvertEncode(b *testing.B) {
	r := fixture()[1] // an LLM span: 9 attributes, an event, impact
	for _, protocol := range []string{ProtocolProtobuf, ProtocolJSON} {
		b.Run(protocol, func(b *testing.B) {
			e, err := New(Config{Protocol: protocol})
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]queued, 0, 512)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				batch = append(batch, queued{res: e.conv.resource(r.Resource), span: e.conv.span(r)})
				if len(batch) == cap(batch) || i == b.N-1 {
					if _, err := e.encode(batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
		})
	}
}
