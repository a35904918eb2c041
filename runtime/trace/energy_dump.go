package trace

// Parsing goroutine dumps.

// gCount is one goroutine of a dump: its id and whether it counts for CPU
// (running, runnable) and GPU (those, plus syscall) attribution.
type gCount struct {
	id       int64
	cpu, gpu int
}

type dumpCounts struct {
	gs  []gCount // goroutines that count (the caller excluded)
	all []int64  // every goroutine id in the dump
}

// parseDump reads the header lines of a runtime.Stack(all=true) dump,
// "goroutine 18 [running]:" or "goroutine 7 [chan receive, 2 minutes]:".
// The first goroutine is the caller (the sampler itself) and is skipped.
func parseDump(b []byte) dumpCounts { return parseDumpInto(b, dumpCounts{}) }

// parseDumpInto is parseDump reusing the slices of out.
func parseDumpInto(b []byte, out dumpCounts) dumpCounts {
	out.gs, out.all = out.gs[:0], out.all[:0]
	first := true
	for i := 0; i < len(b); {
		// b[i:] starts a line.
		end := i
		for end < len(b) && b[end] != '\n' {
			end++
		}
		line := b[i:end]
		i = end + 1
		const prefix = "goroutine "
		if len(line) < len(prefix)+3 || string(line[:len(prefix)]) != prefix {
			continue
		}
		rest := line[len(prefix):]
		var id int64
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			id = id*10 + int64(rest[j]-'0')
			j++
		}
		if j == 0 {
			continue
		}
		// The state is between the first '[' and the next ',' or ']'.
		k := j
		for k < len(rest) && rest[k] != '[' {
			k++
		}
		if k == len(rest) {
			continue
		}
		k++
		e := k
		for e < len(rest) && rest[e] != ',' && rest[e] != ']' {
			e++
		}
		state := string(rest[k:e])
		out.all = append(out.all, id)
		if first {
			first = false
			continue
		}
		var c gCount
		switch state {
		case "running", "runnable":
			c = gCount{id: id, cpu: 1, gpu: 1}
		case "syscall":
			c = gCount{id: id, gpu: 1}
		default:
			continue
		}
		out.gs = append(out.gs, c)
	}
	return out
}
