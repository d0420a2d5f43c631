package daemon

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/storage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockerd-lite/dockerd-lite/internal/api"
	ctr "github.com/dockerd-lite/dockerd-lite/internal/container"
	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
	"github.com/dockerd-lite/dockerd-lite/internal/events"
	"github.com/dockerd-lite/dockerd-lite/internal/filters"
	"github.com/dockerd-lite/dockerd-lite/internal/oci"
)

var _ api.ImageBackend = (*Daemon)(nil)

// ImageList implements api.ImageBackend.
func (d *Daemon) ImageList(ctx context.Context, opt api.ImageListOptions) ([]image.Summary, error) {
	imgs, err := d.images.List(ctx)
	if err != nil {
		return nil, err
	}
	match, err := d.imageFilter(ctx, opt.Filters)
	if err != nil {
		return nil, err
	}
	out := []image.Summary{}
	for _, img := range imgs {
		if match(img) {
			out = append(out, imageSummary(img))
		}
	}
	return out, nil
}

// imageFilter compiles the filters of GET /images/json.
func (d *Daemon) imageFilter(ctx context.Context, f filters.Args) (func(oci.Image) bool, error) {
	dangling, hasDangling, err := f.Bool("dangling")
	if err != nil {
		return nil, err
	}
	before, err := d.imageCreated(ctx, f["before"])
	if err != nil {
		return nil, err
	}
	since, err := d.imageCreated(ctx, f["since"])
	if err != nil {
		return nil, err
	}
	var until time.Time
	if len(f["until"]) > 0 {
		if until, err = filters.ParseTimestamp(f["until"][0]); err != nil {
			return nil, err
		}
	}
	return func(img oci.Image) bool {
		switch {
		case hasDangling && dangling != (len(img.RepoTags) == 0):
			return false
		case !f.MatchLabels("label", img.Config.Config.Labels):
			return false
		case !before.IsZero() && !img.Created.Before(before):
			return false
		case !since.IsZero() && !img.Created.After(since):
			return false
		case !until.IsZero() && img.Created.After(until):
			return false
		case len(f["reference"]) > 0 && !matchReference(f, img.RepoTags):
			return false
		}
		return true
	}, nil
}

func matchReference(f filters.Args, tags []string) bool {
	for _, t := range tags {
		name, _, _ := strings.Cut(t, ":")
		if i := strings.LastIndexByte(t, ':'); i > strings.LastIndexByte(t, '/') {
			name = t[:i]
		}
		if f.MatchGlob("reference", t) || f.MatchGlob("reference", name) {
			return true
		}
	}
	return false
}

// imageCreated resolves before=/since= image references to creation times.
func (d *Daemon) imageCreated(ctx context.Context, names []string) (time.Time, error) {
	if len(names) == 0 {
		return time.Time{}, nil
	}
	img, err := d.images.Get(ctx, names[0])
	if err != nil {
		return time.Time{}, err
	}
	return img.Created, nil
}

func imageSummary(img oci.Image) image.Summary {
	return image.Summary{
		ID:          img.ID,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		ParentID:    img.Parent,
		Created:     img.Created.Unix(),
		Size:        img.Size,
		SharedSize:  -1,
		Containers:  -1,
		Labels:      nonNilMap(img.Config.Config.Labels),
	}
}

// ImageInspect implements api.ImageBackend.
func (d *Daemon) ImageInspect(ctx context.Context, name string) (api.ImageInspect, error) {
	img, err := d.images.Get(ctx, name)
	if err != nil {
		return api.ImageInspect{}, err
	}
	return api.ImageInspect{InspectResponse: d.imageInspect(img), Parent: img.Parent}, nil
}

func (d *Daemon) imageInspect(img oci.Image) image.InspectResponse {
	c := img.Config
	res := image.InspectResponse{
		ID:           img.ID,
		RepoTags:     img.RepoTags,
		RepoDigests:  img.RepoDigests,
		Author:       c.Author,
		Config:       dockerConfig(c.Config),
		Architecture: c.Architecture,
		Variant:      c.Variant,
		Os:           c.OS,
		OsVersion:    c.OSVersion,
		Size:         img.Size,
		GraphDriver:  &storage.DriverData{Name: d.images.Driver(), Data: map[string]string{}},
		RootFS:       image.RootFS{Type: c.RootFS.Type, Layers: digestStrings(c.RootFS.DiffIDs)},
		Metadata:     image.Metadata{LastTagTime: img.LastTagTime},
	}
	if !img.Created.IsZero() {
		res.Created = img.Created.Format(time.RFC3339Nano)
	}
	if n := len(c.History); n > 0 {
		res.Comment = c.History[n-1].Comment
	}
	return res
}

// ImageHistory implements api.ImageBackend.
func (d *Daemon) ImageHistory(ctx context.Context, name string) ([]image.HistoryResponseItem, error) {
	hist, err := d.images.History(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]image.HistoryResponseItem, len(hist))
	for i, h := range hist {
		out[i] = image.HistoryResponseItem{ID: h.ID, Created: h.Created, CreatedBy: h.CreatedBy,
			Tags: nonNilSlice(h.Tags), Size: h.Size, Comment: h.Comment}
	}
	return out, nil
}

// ImageTag implements api.ImageBackend.
func (d *Daemon) ImageTag(ctx context.Context, name, repo, tag string) error {
	ref := repo
	if tag != "" {
		ref += ":" + tag
	}
	img, err := d.images.Get(ctx, name)
	if err != nil {
		return err
	}
	if err := d.images.Tag(ctx, img.ID, ref); err != nil {
		return err
	}
	d.imageEvent("tag", img.ID, oci.Familiar(ref))
	return nil
}

// ImageDelete implements api.ImageBackend. An image a container uses is
// never deleted: without force that is a 409 (Docker's messages); with
// force a reference is only untagged.
func (d *Daemon) ImageDelete(ctx context.Context, name string, force, noprune bool) ([]image.DeleteResponse, error) {
	img, err := d.images.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	user := d.imageUser(img.ID)
	byID := strings.HasPrefix(strings.TrimPrefix(img.ID, "sha256:"), strings.TrimPrefix(name, "sha256:"))
	lastRef := len(img.RepoTags) <= 1
	if user == nil || (!byID && !lastRef) {
		items, err := d.images.Remove(ctx, name, force, noprune)
		if err != nil {
			return nil, err
		}
		return d.deleteResponses(items, img.ID), nil
	}
	short := strings.TrimPrefix(img.ID, "sha256:")[:12]
	state := "stopped"
	if user.State.Running() {
		state = "running"
	}
	switch {
	case byID && (!force || state == "running"):
		how := "must be forced"
		if force {
			how = "cannot be forced"
		}
		return nil, errdefs.Errorf(errdefs.Conflict, "conflict: unable to delete %s (%s) - image is being used by %s container %s", short, how, state, user.ID[:12])
	case !force:
		return nil, errdefs.Errorf(errdefs.Conflict, "conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", name, user.ID[:12], short)
	}
	var items []oci.DeleteItem
	for _, t := range img.RepoTags {
		untagged, err := d.images.Untag(ctx, t)
		if err != nil {
			return nil, err
		}
		items = append(items, untagged...)
	}
	return d.deleteResponses(items, img.ID), nil
}

// imageUser returns a container using the image, running ones first.
func (d *Daemon) imageUser(imageID string) *ctr.Container {
	var found *ctr.Container
	for _, c := range d.containers.List() {
		if c.ImageID == imageID && (found == nil || c.State.Running()) {
			found = c
		}
	}
	return found
}

// deleteResponses converts the store's delete lines and publishes Docker's
// events: untag per removed tag and delete per removed image (imageIDs),
// both with the image ID as Actor ID; freed layers get no event.
func (d *Daemon) deleteResponses(items []oci.DeleteItem, imageIDs ...string) []image.DeleteResponse {
	out := make([]image.DeleteResponse, 0, len(items))
	id := ""
	if len(imageIDs) == 1 {
		id = imageIDs[0]
	}
	for _, it := range items {
		out = append(out, image.DeleteResponse{Untagged: it.Untagged, Deleted: it.Deleted})
		if it.Untagged != "" && !strings.Contains(it.Untagged, "@") {
			d.imageEvent("untag", id, id)
		}
		if it.Deleted != "" && slices.Contains(imageIDs, it.Deleted) {
			d.imageEvent("delete", it.Deleted, it.Deleted)
		}
	}
	return out
}

// ImagePrune implements api.ImageBackend: dangling images only, unless
// dangling=false asks for every unused image.
func (d *Daemon) ImagePrune(ctx context.Context, f filters.Args) (image.PruneReport, error) {
	dangling, set, err := f.Bool("dangling")
	if err != nil {
		return image.PruneReport{}, err
	}
	keep, err := d.pruneKeep(ctx, f)
	if err != nil {
		return image.PruneReport{}, err
	}
	before, err := d.images.List(ctx)
	if err != nil {
		return image.PruneReport{}, err
	}
	items, reclaimed, err := d.images.Prune(ctx, !set || dangling, keep)
	if err != nil {
		return image.PruneReport{}, err
	}
	var ids []string
	for _, img := range before {
		ids = append(ids, img.ID)
	}
	rep := image.PruneReport{ImagesDeleted: d.deleteResponses(items, ids...), SpaceReclaimed: uint64(reclaimed)}
	d.events.Publish(events.Event{Type: "image", Action: "prune", Attributes: map[string]string{"reclaimed": itoa(reclaimed)}})
	return rep, nil
}

// pruneKeep returns the predicate of images prune must keep: those a
// container uses and those the until, label and label! filters exclude.
func (d *Daemon) pruneKeep(ctx context.Context, f filters.Args) (func(string) bool, error) {
	var until time.Time
	if v := f["until"]; len(v) > 0 {
		var err error
		if until, err = filters.ParseTimestamp(v[0]); err != nil {
			return nil, err
		}
	}
	return func(id string) bool {
		if d.imageInUse(id) {
			return true
		}
		img, err := d.images.Get(ctx, id)
		if err != nil {
			return true
		}
		labels := img.Config.Config.Labels
		return (!until.IsZero() && !img.Created.Before(until)) || !f.MatchLabels("label", labels) ||
			(len(f["label!"]) > 0 && anyLabel(f["label!"], labels))
	}, nil
}

// imageInUse reports whether a container uses the image.
func (d *Daemon) imageInUse(id string) bool { return d.imageUser(id) != nil }

// ImagePull implements api.ImageBackend.
func (d *Daemon) ImagePull(ctx context.Context, opt api.ImagePullOptions, progress api.ProgressFunc) error {
	platform, err := parsePlatform(opt.Platform)
	if err != nil {
		return err
	}
	po := oci.PullOpt{Platform: platform, Auth: ociAuth(opt.Auth), Progress: ociProgress(progress)}
	var refs []string
	if opt.AllTags {
		res, err := d.images.PullAllTags(ctx, opt.Ref, po)
		if err != nil {
			return err
		}
		for _, r := range res {
			refs = append(refs, r.Ref)
		}
	} else {
		res, err := d.images.Pull(ctx, opt.Ref, po)
		if err != nil {
			return err
		}
		refs = append(refs, res.Ref)
	}
	for _, r := range refs {
		d.imageEvent("pull", r, oci.FamiliarName(r))
	}
	return nil
}

// ImagePush implements api.ImageBackend.
func (d *Daemon) ImagePush(ctx context.Context, name string, auth registry.AuthConfig, progress api.ProgressFunc) error {
	if _, _, err := d.images.Push(ctx, name, oci.PushOpt{Auth: ociAuth(auth), Progress: ociProgress(progress)}); err != nil {
		return err
	}
	d.imageEvent("push", oci.Familiar(name), oci.FamiliarName(name))
	return nil
}

// ImageImport implements api.ImageBackend.
func (d *Daemon) ImageImport(ctx context.Context, src io.Reader, opt api.ImageImportOptions, progress api.ProgressFunc) error {
	platform, err := parsePlatform(opt.Platform)
	if err != nil {
		return err
	}
	img, err := d.images.Import(ctx, src, oci.ImportOpt{Ref: opt.Ref, Changes: opt.Changes, Message: opt.Message, Platform: platform})
	if err != nil {
		return err
	}
	progress(jsonstream.Message{Status: img.ID})
	d.imageEvent("import", img.ID, img.ID)
	return nil
}

// ImageLoad implements api.ImageBackend.
func (d *Daemon) ImageLoad(ctx context.Context, src io.Reader, progress api.ProgressFunc) error {
	lines, err := d.images.Load(ctx, src)
	if err != nil {
		return err
	}
	for _, l := range lines {
		progress(jsonstream.Message{Stream: l + "\n"})
		ref := strings.TrimPrefix(strings.TrimPrefix(l, "Loaded image: "), "Loaded image ID: ")
		if img, err := d.images.Get(ctx, ref); err == nil {
			d.imageEvent("load", img.ID, img.ID)
		}
	}
	return nil
}

// ImageSave implements api.ImageBackend.
func (d *Daemon) ImageSave(ctx context.Context, names []string, w func() io.Writer) error {
	ids := make([]string, len(names))
	for i, n := range names {
		img, err := d.images.Get(ctx, n)
		if err != nil {
			return err
		}
		ids[i] = img.ID
	}
	if err := d.images.Save(ctx, names, w()); err != nil {
		return err
	}
	for _, id := range ids {
		d.imageEvent("save", id, id)
	}
	return nil
}

// DistributionInspect implements api.ImageBackend.
func (d *Daemon) DistributionInspect(ctx context.Context, name string, auth registry.AuthConfig) (registry.DistributionInspect, error) {
	desc, platforms, err := d.images.Distribution(ctx, name, ociAuth(auth))
	if err != nil {
		return registry.DistributionInspect{}, err
	}
	if platforms == nil {
		platforms = []ocispec.Platform{}
	}
	return registry.DistributionInspect{Descriptor: desc, Platforms: platforms}, nil
}

// Auth implements api.ImageBackend.
func (d *Daemon) Auth(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error) {
	a := ociAuth(auth)
	if a == nil {
		a = &oci.Auth{ServerAddress: auth.ServerAddress}
	}
	if err := d.images.Login(ctx, *a); err != nil {
		return registry.AuthResponse{}, err
	}
	return registry.AuthResponse{Status: "Login Succeeded"}, nil
}

// ImageSearch implements api.ImageBackend.
func (d *Daemon) ImageSearch(ctx context.Context, term string, limit int, auth registry.AuthConfig) ([]registry.SearchResult, error) {
	hits, err := d.images.Search(ctx, term, limit, ociAuth(auth))
	if err != nil {
		return nil, err
	}
	out := make([]registry.SearchResult, len(hits))
	for i, h := range hits {
		out[i] = registry.SearchResult{Name: h.Name, Description: h.Description, StarCount: h.StarCount, IsOfficial: h.IsOfficial}
	}
	return out, nil
}

// imageEvent publishes an image event as dockerd does: the Actor ID is the
// image ID (the reference for pull and push); name is the reference for
// pull, push and tag, the image ID otherwise.
func (d *Daemon) imageEvent(action, id, name string) {
	d.events.Publish(events.Event{Type: "image", Action: action, ID: id, Attributes: map[string]string{"name": name}})
}

// ociProgress adapts the store's typed progress to the API's messages.
func ociProgress(fn api.ProgressFunc) oci.ProgressFunc {
	return func(p oci.Progress) {
		m := jsonstream.Message{ID: p.ID, Status: p.Status}
		if p.Total > 0 || p.Current > 0 {
			m.Progress = &jsonstream.Progress{Current: p.Current, Total: p.Total}
		}
		fn(m)
	}
}

func ociAuth(a registry.AuthConfig) *oci.Auth {
	if a == (registry.AuthConfig{}) {
		return nil
	}
	return &oci.Auth{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken,
		RegistryToken: a.RegistryToken, ServerAddress: a.ServerAddress}
}

// parsePlatform parses "os[/arch[/variant]]".
func parsePlatform(s string) (*ocispec.Platform, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > 3 || parts[0] == "" {
		return nil, errdefs.Errorf(errdefs.InvalidParameter, "invalid platform %q: use os[/arch[/variant]]", s)
	}
	p := &ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}
