package llmhttp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The AWS event stream (application/vnd.amazon.eventstream) frames each
// message as
//
//	total length uint32 | headers length uint32 | prelude CRC32 uint32 |
//	headers | payload | message CRC32 uint32
//
// all big-endian, CRCs are IEEE CRC-32 of the bytes before them. A header is
// name length uint8 | name | value type uint8 | value.

// esMessage is one decoded event-stream message.
type esMessage struct {
	headers map[string]string // string-valued headers only (:event-type, :message-type, ...)
	payload []byte
}

// maxESMessage bounds one message (AWS allows 16 MiB payload + 128 KiB headers).
const maxESMessage = 16<<20 + 128<<10 + 16

var errESCorrupt = errors.New("eventstream: corrupt frame")

// esDecoder decodes messages from bytes fed incrementally.
type esDecoder struct {
	buf []byte
	err error
}

// feed appends p and returns the complete messages now available. After an
// error it returns nothing more.
func (d *esDecoder) feed(p []byte) []esMessage {
	if d.err != nil {
		return nil
	}
	d.buf = append(d.buf, p...)
	var out []esMessage
	for len(d.buf) >= 12 {
		total := binary.BigEndian.Uint32(d.buf[0:4])
		hlen := binary.BigEndian.Uint32(d.buf[4:8])
		if crc32.ChecksumIEEE(d.buf[0:8]) != binary.BigEndian.Uint32(d.buf[8:12]) {
			d.fail(fmt.Errorf("%w: prelude checksum", errESCorrupt))
			return out
		}
		if total < 16 || total > maxESMessage || hlen > total-16 {
			d.fail(fmt.Errorf("%w: lengths %d/%d", errESCorrupt, total, hlen))
			return out
		}
		if uint32(len(d.buf)) < total {
			break
		}
		frame := d.buf[:total]
		if crc32.ChecksumIEEE(frame[:total-4]) != binary.BigEndian.Uint32(frame[total-4:]) {
			d.fail(fmt.Errorf("%w: message checksum", errESCorrupt))
			return out
		}
		h, err := parseESHeaders(frame[12 : 12+hlen])
		if err != nil {
			d.fail(err)
			return out
		}
		payload := append([]byte(nil), frame[12+hlen:total-4]...)
		out = append(out, esMessage{headers: h, payload: payload})
		d.buf = d.buf[total:]
	}
	return out
}

func (d *esDecoder) fail(err error) {
	d.err = err
	d.buf = nil
}

// esValueSizes is the fixed size of each non-string header value type.
var esValueSizes = map[byte]int{0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}

func parseESHeaders(b []byte) (map[string]string, error) {
	h := map[string]string{}
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+1 {
			return nil, fmt.Errorf("%w: header name", errESCorrupt)
		}
		name := string(b[1 : 1+n])
		typ := b[1+n]
		b = b[2+n:]
		switch typ {
		case 6, 7: // bytes, string: uint16 length
			if len(b) < 2 {
				return nil, fmt.Errorf("%w: header %s", errESCorrupt, name)
			}
			l := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+l {
				return nil, fmt.Errorf("%w: header %s", errESCorrupt, name)
			}
			if typ == 7 {
				h[name] = string(b[2 : 2+l])
			}
			b = b[2+l:]
		default:
			sz, ok := esValueSizes[typ]
			if !ok || len(b) < sz {
				return nil, fmt.Errorf("%w: header %s type %d", errESCorrupt, name, typ)
			}
			b = b[sz:]
		}
	}
	return h, nil
}
