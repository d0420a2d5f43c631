package e2e

import (
	"strings"
	"testing"
)

// TestNetworkMacAddress sets the MAC address container-wide (docker run
// --mac-address) and per endpoint (API 1.44 EndpointSettings.MacAddress)
// and checks eth0 and inspect.
func TestNetworkMacAddress(t *testing.T) {
	d := monDaemon(t)
	defer monRemoveAll(t, d)
	img := d.LoadBusybox(t)
	const mac = "92:d0:c6:0a:29:33"
	id := monRun(t, d, "--mac-address", mac, "sleep 1000")
	if got := monInspect(t, d, id, "{{.NetworkSettings.Networks.bridge.MacAddress}}"); got != mac {
		t.Errorf("inspect MacAddress %q, want %q", got, mac)
	}
	if got := d.DockerOK(t, "exec", id, "cat", "/sys/class/net/eth0/address"); strings.TrimSpace(got) != mac {
		t.Errorf("eth0 address %q, want %q", got, mac)
	}
	d.DockerOK(t, "network", "create", "--subnet", "10.81.0.0/24", "macnet")
	defer d.Docker(t, "network", "rm", "macnet")
	const mac2 = "92:d0:c6:0a:29:44"
	out := d.DockerOK(t, "run", "--rm", "--network", "name=macnet,mac-address="+mac2, img, "cat", "/sys/class/net/eth0/address")
	if strings.TrimSpace(out) != mac2 {
		t.Errorf("endpoint MAC on macnet: %q, want %q", out, mac2)
	}
	d.DockerOK(t, "stop", "-t", "0", id)
	if got := monInspect(t, d, id, "{{.NetworkSettings.Networks.bridge.MacAddress}}"); got != mac {
		t.Errorf("stopped container's MacAddress %q, want the configured %q", got, mac)
	}
	d.DockerOK(t, "start", id)
	if got := d.DockerOK(t, "exec", id, "cat", "/sys/class/net/eth0/address"); strings.TrimSpace(got) != mac {
		t.Errorf("eth0 after restart %q, want %q", got, mac)
	}
	plain := monRun(t, d, "sleep 1000")
	ip := monInspect(t, d, plain, "{{.NetworkSettings.Networks.bridge.IPAddress}}")
	if got := monInspect(t, d, plain, "{{.NetworkSettings.Networks.bridge.MacAddress}}"); !strings.HasPrefix(got, "02:42:ac:11:") || ip == "" {
		t.Errorf("derived MAC %q for %s", got, ip)
	}
	if r := d.Docker(t, "run", "--rm", "--network", "host", "--mac-address", mac, img, "true"); r.ExitCode == 0 {
		t.Errorf("--mac-address with --network host succeeded: %s", r)
	}
}
