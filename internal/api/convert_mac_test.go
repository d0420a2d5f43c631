package api

import (
	"encoding/json"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// TestContainerWideMAC pins how Config.MacAddress (deprecated by API 1.44)
// lands on the main network's endpoint, as moby's handleMACAddressBC does.
func TestContainerWideMAC(t *testing.T) {
	const mac = "92:d0:c6:0a:29:33"
	ep := func(m string) *network.NetworkingConfig {
		var hw network.HardwareAddr
		_ = hw.UnmarshalText([]byte(m))
		return &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"appnet": {MacAddress: hw}}}
	}
	cases := []struct {
		name, mac string
		mode      container.NetworkMode
		nc        *network.NetworkingConfig
		key       string // endpoint that must carry mac; "" means an error
	}{
		{"default mode", mac, "", nil, "bridge"},
		{"named default", mac, "default", nil, "bridge"},
		{"user network", mac, "appnet", nil, "appnet"},
		{"agreeing endpoint", mac, "appnet", ep(mac), "appnet"},
		{"conflicting endpoint", mac, "appnet", ep("02:42:ac:11:00:99"), ""},
		{"host mode", mac, "host", nil, ""},
		{"container mode", mac, "container:abc", nil, ""},
		{"invalid", "zz:zz", "bridge", nil, ""},
	}
	for _, c := range cases {
		nc, err := containerWideMAC(c.mac, c.mode, c.nc)
		if c.key == "" {
			if !errdefs.IsInvalidParameter(err) {
				t.Errorf("%s: want an invalid-parameter error, got %v", c.name, err)
			}
			continue
		}
		if err != nil || nc.EndpointsConfig[c.key] == nil || nc.EndpointsConfig[c.key].MacAddress.String() != mac {
			t.Errorf("%s: %v %+v", c.name, err, nc)
		}
	}
	if nc, err := containerWideMAC("", "host", nil); err != nil || nc != nil {
		t.Errorf("no MAC: %v %+v", err, nc)
	}
}

// TestCreateRequestDecodesMacAddress checks that the body's top-level
// MacAddress (Config's field before API 1.44) is read beside the config.
func TestCreateRequestDecodesMacAddress(t *testing.T) {
	var req createRequest
	body := `{"Image":"busybox","MacAddress":"92:d0:c6:0a:29:33","HostConfig":{"NetworkMode":"bridge"}}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	if req.Config == nil || req.Image != "busybox" || req.MacAddress != "92:d0:c6:0a:29:33" || req.HostConfig.NetworkMode != "bridge" {
		t.Fatalf("decoded %+v", req)
	}
	opt, err := createOptionsForAPI(req, "", "", "1.43")
	if err != nil || opt.Networking.EndpointsConfig["bridge"].MacAddress.String() != "92:d0:c6:0a:29:33" {
		t.Errorf("options %v %+v", err, opt.Networking)
	}
}
