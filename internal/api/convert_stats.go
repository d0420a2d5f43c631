package api

import (
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client/pkg/versions"
)

// statsV120 is the stats document of API versions before 1.21: one
// "network" object instead of "networks" per interface.
type statsV120 struct {
	container.StatsResponse
	Networks *struct{}              `json:"networks,omitempty"` // hides the embedded field
	Network  container.NetworkStats `json:"network"`
}

// statsForAPI renders a stats sample for the request's API version.
func statsForAPI(s container.StatsResponse, api string) any {
	if !versions.LessThan(api, "1.21") {
		return s
	}
	var sum container.NetworkStats
	for _, n := range s.Networks {
		sum.RxBytes += n.RxBytes
		sum.RxPackets += n.RxPackets
		sum.RxErrors += n.RxErrors
		sum.RxDropped += n.RxDropped
		sum.TxBytes += n.TxBytes
		sum.TxPackets += n.TxPackets
		sum.TxErrors += n.TxErrors
		sum.TxDropped += n.TxDropped
	}
	return statsV120{StatsResponse: s, Network: sum}
}
