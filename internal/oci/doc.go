// Package oci is the image store of dockerd-lite: references, the blob store
// (an OCI image layout holding exact compressed layers, configs and manifests
// by digest), read-only containers/storage layers unpacked with umoci (one per
// layer chain, shared by every image that has the chain), and the image
// records. It pulls from and pushes to registries, loads and saves
// docker-archive and OCI archives and imports root file system tarballs.
//
// Every method that touches storage must run inside the daemon's user
// namespace, where the process is uid 0 with either a full subordinate id
// range or a single id (then ownership is not preserved, as in umoci's
// rootless mode).
//
// Layout of the data root:
//
//	<root>/blobs/          OCI image layout (oci-layout, index.json, blobs/sha256/...)
//	<root>/storage/        containers/storage graph root (layer ID = chain ID hex)
//	<root>/images.json     image records and references, written atomically
//	<root>/blobrepos.json  layer digest -> repositories it was pulled from or
//	                       pushed to (newest first, at most 8), written atomically
//	<root>/tmp/            partial downloads and archive spools
//
// Design notes:
//
//   - A storage layer's own content lives in the overlay "diff" directory
//     (umoci OverlayfsRootfs with user.overlay.* xattrs, which both kernel
//     overlay in a user namespace and fuse-overlayfs read) or, for vfs, in
//     the layer directory (umoci DirRootfs). Layers are created with
//     CreateLayer and filled by umoci directly; containers/storage's own
//     diff applier is not used.
//   - Pull streams each layer from the registry into a temp blob file and,
//     through the decompressor, into its storage layer at the same time;
//     blob writing and both digests run on helper goroutines (asyncWriter).
//     A layer is kept only when the blob digest and the diff ID verify.
//     With overlay a child layer may unpack while its parent still does;
//     vfs copies the parent on create, so children wait for it.
//   - Layer metadata records the state ("unpacking", "ro", "rw"), the diff
//     ID and size; New removes layers left "unpacking" and read-only layers
//     no image references (a daemon killed mid-pull), and empties tmp/.
//   - Loaded and imported layers are stored as they come (imports
//     uncompressed); pushing them sends them unchanged.
//   - Push mounts layers across repositories as dockerd does: a layer
//     known (blobrepos.json) to be in another repository of the same
//     registry, and not in the target one, is first requested with
//     POST .../blobs/uploads/?mount=<digest>&from=<repo> (up to three
//     source repositories); a 201 reports "Mounted from <repo>", anything
//     else falls back to go-containerregistry's existence check and upload.
package oci
