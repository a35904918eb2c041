package llmhttp

import "bytes"

// maxLine bounds one SSE or NDJSON line kept for parsing; longer lines are
// skipped (their bytes still reach the caller).
const maxLine = 4 << 20

// lineSplitter turns bytes fed incrementally into lines, without the line
// terminator (\n, \r\n or \r).
type lineSplitter struct {
	buf    []byte
	skip   bool // inside a line longer than maxLine
	lastCR bool // the previous feed ended with \r: a leading \n belongs to it
}

func (s *lineSplitter) feed(p []byte, line func([]byte)) {
	if s.lastCR && len(p) > 0 && p[0] == '\n' {
		p = p[1:]
	}
	s.lastCR = false
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			if !s.skip {
				if len(s.buf)+len(p) > maxLine {
					s.skip, s.buf = true, s.buf[:0]
				} else {
					s.buf = append(s.buf, p...)
				}
			}
			return
		}
		if !s.skip {
			if len(s.buf) > 0 {
				s.buf = append(s.buf, p[:i]...)
				line(s.buf)
				s.buf = s.buf[:0]
			} else {
				line(p[:i])
			}
		}
		s.skip = false
		// \r\n counts once; a lone \r also ends a line.
		if p[i] == '\r' {
			if i+1 < len(p) && p[i+1] == '\n' {
				i++
			} else if i+1 == len(p) {
				s.lastCR = true
			}
		}
		p = p[i+1:]
	}
}

// flush delivers a final unterminated line.
func (s *lineSplitter) flush(line func([]byte)) {
	if len(s.buf) > 0 && !s.skip {
		line(s.buf)
	}
	s.buf = s.buf[:0]
}

// sseParser assembles Server-Sent Events from lines.
type sseParser struct {
	event string
	data  []byte
	emit  func(event string, data []byte)
}

func (p *sseParser) line(l []byte) {
	switch {
	case len(l) == 0:
		p.dispatch()
	case l[0] == ':':
	default:
		field, value := l, []byte(nil)
		if i := bytes.IndexByte(l, ':'); i >= 0 {
			field, value = l[:i], l[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			p.event = string(value)
		case "data":
			if p.data != nil {
				p.data = append(p.data, '\n')
			}
			p.data = append(p.data, value...)
			if p.data == nil {
				p.data = []byte{}
			}
		}
	}
}

func (p *sseParser) dispatch() {
	if p.data != nil {
		p.emit(p.event, p.data)
	}
	p.event, p.data = "", nil
}
