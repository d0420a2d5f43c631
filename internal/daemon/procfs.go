package daemon

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
)

// clockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat and
// /proc/stat. Linux fixes it at 100 on every architecture Go supports.
const clockTicks = 100

const nsPerTick = 1e9 / clockTicks

// procStat is what stats needs from one /proc/<pid>/stat.
type procStat struct {
	state          byte
	utime, stime   uint64 // ticks, this process
	cutime, cstime uint64 // ticks, its waited-for children
	rssPages       uint64
}

// parseProcStat parses /proc/<pid>/stat. The command name is in
// parentheses and may hold spaces or parentheses, so fields are counted
// from the last ")".
func parseProcStat(b []byte) (procStat, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse proc stat: no command field")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, rss field 24.
	if len(f) < 22 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("parse proc stat: %d fields", len(f))
	}
	var st procStat
	st.state = f[0][0]
	var err error
	for _, p := range []struct {
		dst *uint64
		idx int
	}{{&st.utime, 11}, {&st.stime, 12}, {&st.cutime, 13}, {&st.cstime, 14}, {&st.rssPages, 21}} {
		v, perr := strconv.ParseInt(f[p.idx], 10, 64)
		if perr != nil {
			err = fmt.Errorf("parse proc stat field %d: %w", p.idx+3, perr)
		}
		*p.dst = uint64(max(v, 0))
	}
	return st, err
}

// parseSystemCPU returns the host's total CPU time in nanoseconds (the
// "cpu" line of /proc/stat, as Docker's system_cpu_usage) and the number
// of online CPUs (the "cpuN" lines).
func parseSystemCPU(r io.Reader) (total uint64, cpus uint32, err error) {
	sc := bufio.NewScanner(r)
	found := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 1 && f[0] == "cpu":
			found = true
			for _, v := range f[1:] {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("parse /proc/stat: %w", err)
				}
				total += n
			}
		case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
			cpus++
		}
	}
	if !found {
		return 0, 0, fmt.Errorf("parse /proc/stat: no cpu line")
	}
	return total * nsPerTick, cpus, sc.Err()
}

// parseNetDev parses /proc/<pid>/net/dev into Docker's per-interface
// network stats.
func parseNetDev(r io.Reader) (map[string]container.NetworkStats, error) {
	out := map[string]container.NetworkStats{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue // the two header lines
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("parse net/dev: %d fields for %s", len(f), name)
		}
		var v [16]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse net/dev: %w", err)
			}
			v[i] = n
		}
		out[strings.TrimSpace(name)] = container.NetworkStats{
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		}
	}
	return out, sc.Err()
}

// parseProcIO returns read_bytes and write_bytes of /proc/<pid>/io: the
// bytes that went to or came from the block layer.
func parseProcIO(r io.Reader) (read, write uint64, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, perr := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		switch {
		case k != "read_bytes" && k != "write_bytes":
			continue
		case perr != nil:
			return 0, 0, fmt.Errorf("parse proc io %s: %w", k, perr)
		case k == "read_bytes":
			read = n
		default:
			write = n
		}
	}
	return read, write, sc.Err()
}

// readProcStat reads /proc/<pid>/stat.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// readProcFile opens /proc/<pid>/<name> and hands it to parse.
func readProcFile(pid int, name string, parse func(io.Reader) error) error {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		return err
	}
	defer f.Close()
	return parse(f)
}
