package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
)

// fakeNetworks records what the handlers pass on.
type fakeNetworks struct {
	filters   filters.Args
	created   network.CreateRequest
	connected *network.EndpointSettings
	forced    bool
}

func (f *fakeNetworks) NetworkList(_ context.Context, a filters.Args) ([]network.Summary, error) {
	f.filters = a
	return nil, nil
}

func (f *fakeNetworks) NetworkInspect(_ context.Context, name string) (network.Inspect, error) {
	if name != "n1" {
		return network.Inspect{}, errdefs.Errorf(errdefs.NotFound, "network %s not found", name)
	}
	return network.Inspect{Network: network.Network{Name: "n1", ID: "abc"}}, nil
}

func (f *fakeNetworks) NetworkCreate(_ context.Context, req network.CreateRequest) (network.CreateResponse, error) {
	f.created = req
	return network.CreateResponse{ID: "abc"}, nil
}

func (f *fakeNetworks) NetworkConnect(_ context.Context, _, _ string, ep *network.EndpointSettings) error {
	f.connected = ep
	return nil
}

func (f *fakeNetworks) NetworkDisconnect(_ context.Context, _, _ string, force bool) error {
	f.forced = force
	return nil
}

func (f *fakeNetworks) NetworkRemove(_ context.Context, name string) error {
	if name == "busy" {
		return errdefs.Errorf(errdefs.Conflict, "error while removing network: network busy has active endpoints")
	}
	if name == "bridge" {
		return errdefs.Errorf(errdefs.Forbidden, "bridge is a pre-defined network and cannot be removed")
	}
	return nil
}

func (f *fakeNetworks) NetworksPrune(context.Context, filters.Args) (network.PruneReport, error) {
	return network.PruneReport{}, nil
}

func newNetworkServer(f *fakeNetworks) *Server {
	return New(Opt{Backends: Backends{System: &fakeSystem{bus: events.New()}, Networks: f}, BaseContext: context.Background(),
		CORSOrigin: func() string { return "" }})
}

func TestNetworkHandlers(t *testing.T) {
	f := &fakeNetworks{}
	s := newNetworkServer(f)
	cases := []struct {
		method, path, body string
		code               int
	}{
		{http.MethodGet, `/networks?filters={"name":{"app":true}}`, "", 200},
		{http.MethodGet, `/networks?filters={"bogus":{"x":true}}`, "", 400},
		{http.MethodGet, "/networks/n1", "", 200},
		{http.MethodGet, "/v1.41/networks/nope", "", 404},
		{http.MethodPost, "/networks/create", `{"Name":"app","Internal":true,"IPAM":{"Config":[{"Subnet":"10.5.0.0/24"}]}}`, 201},
		{http.MethodPost, "/networks/create", `{"Driver":"bridge"}`, 400},
		{http.MethodPost, "/networks/create", `{"Name":`, 400},
		{http.MethodPost, "/networks/n1/connect", `{"Container":"c1","EndpointConfig":{"Aliases":["db"]}}`, 200},
		{http.MethodPost, "/networks/n1/disconnect", `{"Container":"c1","Force":true}`, 200},
		{http.MethodDelete, "/networks/n1", "", 204},
		{http.MethodDelete, "/networks/busy", "", 409},
		{http.MethodDelete, "/networks/bridge", "", 403},
		{http.MethodPost, "/networks/prune", "", 200},
	}
	for _, c := range cases {
		rec := doBody(t, s, c.method, c.path, c.body)
		if rec.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, rec.Code, rec.Body, c.code)
		}
	}
	if len(f.filters["name"]) != 1 || f.created.Name != "app" || !f.created.Internal || f.created.IPAM.Config[0].Subnet.String() != "10.5.0.0/24" {
		t.Errorf("bound: filters %v, create %+v", f.filters, f.created)
	}
	if f.connected == nil || f.connected.Aliases[0] != "db" || !f.forced {
		t.Errorf("connect %+v, force %v", f.connected, f.forced)
	}
	rec := doBody(t, s, http.MethodGet, "/networks", "")
	var list []network.Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || list == nil {
		t.Errorf("empty list must be [], got %s", rec.Body)
	}
}

func TestInspectLegacyNetworkFields(t *testing.T) {
	ep := &network.EndpointSettings{IPAddress: netip.MustParseAddr("172.17.0.2"), Gateway: netip.MustParseAddr("172.17.0.1"), IPPrefixLen: 16}
	res := container.InspectResponse{NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{"bridge": ep}}}
	for api, want := range map[string]bool{"1.47": true, "1.52": false} {
		b, _ := json.Marshal(containerInspectForAPI(res, api))
		var got struct{ NetworkSettings map[string]any }
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		_, has := got.NetworkSettings["IPAddress"]
		if has != want || want && got.NetworkSettings["IPAddress"] != "172.17.0.2" {
			t.Errorf("API %s: %v", api, got.NetworkSettings)
		}
		if _, ok := got.NetworkSettings["Networks"]; !ok {
			t.Errorf("API %s lost Networks", api)
		}
	}
}
