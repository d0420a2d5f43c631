package api

import (
	"fmt"
	"net"
	"net/url"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// createRequest is the body of POST /containers/create. MacAddress is
// Config's container-wide field, deprecated by API 1.44 (which moved it to
// EndpointSettings) and gone from the current types.
type createRequest struct {
	container.CreateRequest
	MacAddress string `json:",omitempty"`
}

// createOptionsForAPI applies the create request's version quirks.
func createOptionsForAPI(req createRequest, name, platform, api string) (ContainerCreateOptions, error) {
	hc := req.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if versions.LessThan(api, "1.44") && hc.RestartPolicy.Name == "no" && hc.RestartPolicy.MaximumRetryCount != 0 {
		hc.RestartPolicy.MaximumRetryCount = 0 // older clients sent a count with "no"
	}
	nc, err := containerWideMAC(req.MacAddress, hc.NetworkMode, req.NetworkingConfig)
	if err != nil {
		return ContainerCreateOptions{}, err
	}
	return ContainerCreateOptions{Name: name, Config: req.Config, HostConfig: hc, Networking: nc, Platform: platform}, nil
}

// containerWideMAC moves the container-wide MAC address onto the endpoint
// of the network the mode names, as Docker does for every API version
// (before 1.44 it was the only way; from 1.44 both must agree).
func containerWideMAC(mac string, mode container.NetworkMode, nc *network.NetworkingConfig) (*network.NetworkingConfig, error) {
	if mac == "" {
		return nc, nil
	}
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return nil, errdefs.InvalidParameter(fmt.Errorf("invalid MAC address %s: %w", mac, err))
	}
	if mode.IsHost() || mode.IsNone() || mode.IsContainer() {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "conflicting options: mac-address and the network mode")
	}
	name := string(mode)
	if mode == "" || mode.IsDefault() {
		name = "bridge"
	}
	if nc == nil {
		nc = &network.NetworkingConfig{}
	}
	if nc.EndpointsConfig == nil {
		nc.EndpointsConfig = map[string]*network.EndpointSettings{}
	}
	ep := nc.EndpointsConfig[name]
	if ep == nil {
		ep = &network.EndpointSettings{}
		nc.EndpointsConfig[name] = ep
	}
	if len(ep.MacAddress) > 0 && ep.MacAddress.String() != hw.String() {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty")
	}
	ep.MacAddress = network.HardwareAddr(hw)
	return nc, nil
}

// legacyListParams maps the pre-1.22 ?since= and ?before= container IDs
// (kept by later versions) onto filters.
func legacyListParams(q url.Values, opt *ContainerListOptions) {
	for _, k := range []string{"since", "before"} {
		if v := q.Get(k); v != "" {
			opt.Filters[k] = append(opt.Filters[k], v)
		}
	}
}

// containerInspectForAPI adds, before API 1.52, NetworkSettings' top-level
// fields that mirror the default network's endpoint.
func containerInspectForAPI(c container.InspectResponse, api string) any {
	if versions.GreaterThanOrEqualTo(api, "1.52") || c.NetworkSettings == nil {
		return c
	}
	ns := &legacyNetworkSettings{NetworkSettings: c.NetworkSettings}
	if ep := c.NetworkSettings.Networks["bridge"]; ep != nil {
		ns.EndpointID, ns.MacAddress, ns.IPPrefixLen = ep.EndpointID, ep.MacAddress.String(), ep.IPPrefixLen
		if ep.IPAddress.IsValid() {
			ns.IPAddress, ns.Gateway = ep.IPAddress.String(), ep.Gateway.String()
		}
	}
	return inspectLegacy{InspectResponse: c, NetworkSettings: ns}
}

// inspectLegacy is GET /containers/{id}/json before API 1.52.
type inspectLegacy struct {
	container.InspectResponse
	NetworkSettings *legacyNetworkSettings
}

// legacyNetworkSettings carries the deprecated top-level endpoint fields.
type legacyNetworkSettings struct {
	*container.NetworkSettings
	Bridge                 string
	HairpinMode            bool
	LinkLocalIPv6Address   string
	LinkLocalIPv6PrefixLen int
	SecondaryIPAddresses   []string
	SecondaryIPv6Addresses []string
	EndpointID             string
	Gateway                string
	GlobalIPv6Address      string
	GlobalIPv6PrefixLen    int
	IPAddress              string
	IPPrefixLen            int
	IPv6Gateway            string
	MacAddress             string
}

// waitResponse is the body of POST /containers/{id}/wait; Error arrived
// in API 1.30.
type waitResponse struct {
	StatusCode int
	Error      *waitError `json:"Error,omitempty"`
}

type waitError struct{ Message string }

func waitResponseForAPI(r WaitResult, api string) waitResponse {
	w := waitResponse{StatusCode: r.StatusCode}
	if r.Error != "" && versions.GreaterThanOrEqualTo(api, "1.30") {
		w.Error = &waitError{Message: r.Error}
	}
	return w
}
