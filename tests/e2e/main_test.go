package e2e

import (
	"os"
	"testing"

	"github.com/dockerd-lite/dockerd-lite/tests/e2e/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
