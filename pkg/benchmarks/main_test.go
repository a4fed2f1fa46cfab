package benchmarks

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// touchEnv makes the test binary a child that holds and touches that many
// MiB, for TestPeakRSSKiB.
const touchEnv = "BENCHMARKS_TEST_TOUCH_MIB"

// TestMain lets the test binary be the children the benchmarks start:
// Main's index child (as veil-bench re-executes itself) and a memory toucher.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "-"+childFlag || os.Args[1] == "-"+exportChildFlag || os.Args[1] == "-"+rewriteChildFlag) {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	if v := os.Getenv(touchEnv); v != "" {
		mib, err := strconv.Atoi(v)
		if err != nil {
			os.Exit(2)
		}
		b := make([]byte, mib<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		os.Stdout.Write(b[:1])
		os.Exit(0)
	}
	os.Exit(m.Run())
}
