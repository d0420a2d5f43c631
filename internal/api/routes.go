package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// handlers holds the backends; every handler is a method on it.
type handlers struct {
	Backends
}

// route is one endpoint of the Engine API. A nil handler answers 501.
type route struct {
	method, path string
	handler      echo.HandlerFunc
}

// routes is the one route table. Paths use echo's :param syntax; image and
// distribution names contain slashes and are routed by imageRoutes instead.
func (h *handlers) routes() []route {
	return []route{
		// system
		{http.MethodGet, "/_ping", h.getPing},
		{http.MethodHead, "/_ping", h.getPing},
		{http.MethodGet, "/version", h.getVersion},
		{http.MethodGet, "/info", h.getInfo},
		{http.MethodGet, "/events", h.getEvents},
		{http.MethodGet, "/system/df", h.getSystemDF},
		{http.MethodPost, "/auth", h.postAuth},
		{http.MethodPost, "/session", nil},
		// containers
		{http.MethodGet, "/containers/json", h.getContainersJSON},
		{http.MethodPost, "/containers/create", h.postContainersCreate},
		{http.MethodPost, "/containers/prune", h.postContainersPrune},
		{http.MethodGet, "/containers/:id/json", h.getContainerJSON},
		{http.MethodGet, "/containers/:id/top", h.getContainerTop},
		{http.MethodGet, "/containers/:id/logs", h.getContainerLogs},
		{http.MethodGet, "/containers/:id/changes", h.getContainerChanges},
		{http.MethodGet, "/containers/:id/export", h.getContainerExport},
		{http.MethodGet, "/containers/:id/stats", h.getContainerStats},
		{http.MethodPost, "/containers/:id/resize", h.postContainerResize},
		{http.MethodPost, "/containers/:id/start", h.postContainerStart},
		{http.MethodPost, "/containers/:id/stop", h.postContainerStop},
		{http.MethodPost, "/containers/:id/restart", h.postContainerRestart},
		{http.MethodPost, "/containers/:id/kill", h.postContainerKill},
		{http.MethodPost, "/containers/:id/update", h.postContainerUpdate},
		{http.MethodPost, "/containers/:id/rename", h.postContainerRename},
		{http.MethodPost, "/containers/:id/pause", h.postContainerPause},
		{http.MethodPost, "/containers/:id/unpause", h.postContainerUnpause},
		{http.MethodPost, "/containers/:id/attach", h.postContainerAttach},
		{http.MethodGet, "/containers/:id/attach/ws", h.getContainerAttachWS},
		{http.MethodPost, "/containers/:id/wait", h.postContainerWait},
		{http.MethodDelete, "/containers/:id", h.deleteContainer},
		{http.MethodHead, "/containers/:id/archive", h.headContainerArchive},
		{http.MethodGet, "/containers/:id/archive", h.getContainerArchive},
		{http.MethodPut, "/containers/:id/archive", h.putContainerArchive},
		{http.MethodPost, "/containers/:id/copy", h.postContainerCopy}, // API < 1.24
		{http.MethodPost, "/containers/:id/exec", h.postContainerExec},
		{http.MethodPost, "/exec/:id/start", h.postExecStart},
		{http.MethodPost, "/exec/:id/resize", h.postExecResize},
		{http.MethodGet, "/exec/:id/json", h.getExecJSON},
		{http.MethodPost, "/commit", h.postCommit},
		// images (named routes are in imageRoutes)
		{http.MethodGet, "/images/json", h.getImagesJSON},
		{http.MethodPost, "/images/create", h.postImagesCreate},
		{http.MethodGet, "/images/search", h.getImagesSearch},
		{http.MethodPost, "/images/prune", h.postImagesPrune},
		{http.MethodGet, "/images/get", func(c echo.Context) error { return h.getImagesGet(c) }},
		{http.MethodPost, "/images/load", h.postImagesLoad},
		{http.MethodPost, "/build", h.postBuild},
		{http.MethodPost, "/build/prune", h.postBuildPrune},
		// volumes
		{http.MethodGet, "/volumes", h.getVolumes},
		{http.MethodPost, "/volumes/create", h.postVolumesCreate},
		{http.MethodPost, "/volumes/prune", h.postVolumesPrune},
		{http.MethodGet, "/volumes/:name", h.getVolume},
		{http.MethodPut, "/volumes/:name", h.putVolume},
		{http.MethodDelete, "/volumes/:name", h.deleteVolume},
		// networks
		{http.MethodGet, "/networks", h.getNetworks},
		{http.MethodPost, "/networks/create", h.postNetworksCreate},
		{http.MethodPost, "/networks/prune", h.postNetworksPrune},
		{http.MethodGet, "/networks/:id", h.getNetwork},
		{http.MethodDelete, "/networks/:id", h.deleteNetwork},
		{http.MethodPost, "/networks/:id/connect", h.postNetworkConnect},
		{http.MethodPost, "/networks/:id/disconnect", h.postNetworkDisconnect},
		// plugins
		{http.MethodGet, "/plugins", nil},
		{http.MethodGet, "/plugins/privileges", nil},
		{http.MethodPost, "/plugins/pull", nil},
		{http.MethodPost, "/plugins/create", nil},
		{http.MethodGet, "/plugins/:name/json", nil},
		{http.MethodDelete, "/plugins/:name", nil},
		{http.MethodPost, "/plugins/:name/enable", nil},
		{http.MethodPost, "/plugins/:name/disable", nil},
		{http.MethodPost, "/plugins/:name/upgrade", nil},
		{http.MethodPost, "/plugins/:name/push", nil},
		{http.MethodPost, "/plugins/:name/set", nil},
	}
}

// swarmRoutes are the cluster endpoints. This engine is never part of a
// swarm, so reads answer 503 with Docker's "not a swarm manager" message,
// exactly as a standalone dockerd does, and writes answer 501.
var swarmRoutes = []route{
	{http.MethodGet, "/swarm", nil},
	{http.MethodGet, "/swarm/unlockkey", nil},
	{http.MethodGet, "/nodes", nil},
	{http.MethodGet, "/nodes/:id", nil},
	{http.MethodGet, "/services", nil},
	{http.MethodGet, "/services/:id", nil},
	{http.MethodGet, "/services/:id/logs", nil},
	{http.MethodGet, "/tasks", nil},
	{http.MethodGet, "/tasks/:id", nil},
	{http.MethodGet, "/tasks/:id/logs", nil},
	{http.MethodGet, "/secrets", nil},
	{http.MethodGet, "/secrets/:id", nil},
	{http.MethodGet, "/configs", nil},
	{http.MethodGet, "/configs/:id", nil},
	{http.MethodPost, "/swarm/init", nil},
	{http.MethodPost, "/swarm/join", nil},
	{http.MethodPost, "/swarm/leave", nil},
	{http.MethodPost, "/swarm/update", nil},
	{http.MethodPost, "/swarm/unlock", nil},
	{http.MethodDelete, "/nodes/:id", nil},
	{http.MethodPost, "/nodes/:id/update", nil},
	{http.MethodPost, "/services/create", nil},
	{http.MethodDelete, "/services/:id", nil},
	{http.MethodPost, "/services/:id/update", nil},
	{http.MethodPost, "/secrets/create", nil},
	{http.MethodDelete, "/secrets/:id", nil},
	{http.MethodPost, "/secrets/:id/update", nil},
	{http.MethodPost, "/configs/create", nil},
	{http.MethodDelete, "/configs/:id", nil},
	{http.MethodPost, "/configs/:id/update", nil},
}

// register installs every route on e.
func (h *handlers) register(e *echo.Echo) {
	for _, r := range h.routes() {
		e.Add(r.method, r.path, orNotImplemented(r))
	}
	for _, r := range swarmRoutes {
		if r.method == http.MethodGet {
			r.handler = notSwarmManager
		}
		e.Add(r.method, r.path, orNotImplemented(r))
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		e.Add(m, "/images/*", h.imageRoute)
	}
	e.GET("/distribution/*", h.distributionRoute)
}

// orNotImplemented returns r's handler, or one answering 501 that names the
// endpoint: never a fake success.
func orNotImplemented(r route) echo.HandlerFunc {
	if r.handler != nil {
		return r.handler
	}
	return notImplemented(r.method + " " + r.path)
}

func notImplemented(endpoint string) echo.HandlerFunc {
	return func(echo.Context) error {
		return errdefs.Errorf(errdefs.NotImplemented, "%s is not implemented yet", endpoint)
	}
}

func notSwarmManager(echo.Context) error {
	return errdefs.Errorf(errdefs.Unavailable,
		`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`)
}
