package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

// contextTar makes a build context; names ending in "/" are directories.
func contextTar(t *testing.T, files map[string]string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(files[n]))}
		if strings.HasSuffix(n, "/") {
			hdr = &tar.Header{Name: n, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(files[n])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// runBuild builds files on f and returns the image ID and the output.
func runBuild(t *testing.T, f *fakeBackend, files map[string]string, opt Options) (string, string, error) {
	t.Helper()
	opt.Context, opt.TempDir, opt.Remove = contextTar(t, files), t.TempDir(), true
	var out strings.Builder
	id, err := Build(t.Context(), f, opt, func(m jsonstream.Message) { out.WriteString(m.Stream) })
	return id, out.String(), err
}

func mustRun(t *testing.T, f *fakeBackend, files map[string]string, opt Options) (*fakeImage, string) {
	t.Helper()
	id, out, err := runBuild(t, f, files, opt)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if len(f.containers) != 0 {
		t.Errorf("containers left: %d", len(f.containers))
	}
	return f.images[id], out
}

func TestBuildConfigInstructions(t *testing.T) {
	f := newFake()
	img, out := mustRun(t, f, map[string]string{"Dockerfile": `FROM busybox
ARG VERSION=1
ENV APP=/srv \
    MODE="fast lane"
WORKDIR $APP
WORKDIR sub
USER nobody:nogroup
EXPOSE 80 53/udp
VOLUME ["/data"]
LABEL version=$VERSION other="a b"
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/app"]
CMD serve
HEALTHCHECK --interval=5s --retries=2 CMD check
MAINTAINER someone
`}, Options{BuildArgs: map[string]*string{"VERSION": ptr("2")}})
	c := img.cfg
	if !slices.Contains(c.Env, "APP=/srv") || !slices.Contains(c.Env, "MODE=fast lane") || slices.ContainsFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, "VERSION") }) {
		t.Errorf("Env = %q", c.Env)
	}
	if c.WorkingDir != "/srv/sub" || c.User != "nobody:nogroup" || c.StopSignal != "SIGINT" {
		t.Errorf("WorkingDir %q User %q StopSignal %q", c.WorkingDir, c.User, c.StopSignal)
	}
	if c.Labels["version"] != "2" || c.Labels["other"] != "a b" {
		t.Errorf("Labels = %v", c.Labels)
	}
	if len(c.ExposedPorts) != 2 || len(c.Volumes) != 1 {
		t.Errorf("ExposedPorts %v Volumes %v", c.ExposedPorts, c.Volumes)
	}
	if !slices.Equal(c.Entrypoint, []string{"/bin/app"}) || !slices.Equal(c.Cmd, []string{"/bin/sh", "-c", "serve"}) {
		t.Errorf("Entrypoint %q Cmd %q", c.Entrypoint, c.Cmd)
	}
	if c.Healthcheck == nil || c.Healthcheck.Retries != 2 || c.Healthcheck.Interval.String() != "5s" || c.Healthcheck.Test[0] != "CMD-SHELL" {
		t.Errorf("Healthcheck = %+v", c.Healthcheck)
	}
	if img.files["/srv/sub"] != "/" {
		t.Errorf("WORKDIR not created: %v", img.files)
	}
	if !strings.Contains(out, "Step 14/14 : MAINTAINER someone") || !strings.Contains(out, "Successfully built ") {
		t.Errorf("output:\n%s", out)
	}
	if img.createdBy != "/bin/sh -c #(nop) MAINTAINER someone" {
		t.Errorf("createdBy = %q", img.createdBy)
	}
}

func ptr(s string) *string { return &s }

func TestBuildRunArgsAndShell(t *testing.T) {
	f := newFake()
	f.images["sha256:base"].cfg.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "true"}}
	img, out := mustRun(t, f, map[string]string{"Dockerfile": `FROM busybox
ARG TOKEN
ENV TOKEN_ENV=x
RUN echo hi
SHELL ["/bin/bash", "-e", "-c"]
RUN ["/bin/true", "exec"]
RUN echo again
`}, Options{BuildArgs: map[string]*string{"TOKEN": ptr("s3"), "HTTP_PROXY": ptr("http://p"), "UNUSED": ptr("x")}})
	f.mu.Lock()
	for _, c := range f.created {
		if c.Healthcheck == nil || c.Healthcheck.Test[0] != "NONE" {
			t.Errorf("build container with health check %+v", c.Healthcheck)
		}
	}
	f.mu.Unlock()
	want := []string{
		"/bin/sh -c echo hi env=PATH=/bin,TOKEN_ENV=x,TOKEN=s3,HTTP_PROXY=http://p",
		"/bin/true exec env=PATH=/bin,TOKEN_ENV=x,TOKEN=s3,HTTP_PROXY=http://p",
		"/bin/bash -e -c echo again env=PATH=/bin,TOKEN_ENV=x,TOKEN=s3,HTTP_PROXY=http://p",
	}
	if !slices.Equal(f.runs, want) {
		t.Errorf("runs:\n%q\nwant\n%q", f.runs, want)
	}
	if img.createdBy != "|1 TOKEN=s3 /bin/bash -e -c echo again" {
		t.Errorf("createdBy = %q", img.createdBy)
	}
	if !strings.Contains(out, "hi\n") || !strings.Contains(out, "[Warning] One or more build-args [UNUSED] were not consumed") {
		t.Errorf("output:\n%s", out)
	}
	if slices.ContainsFunc(img.cfg.Env, func(e string) bool { return strings.HasPrefix(e, "TOKEN=") }) {
		t.Errorf("build arg persisted in Env: %q", img.cfg.Env)
	}
}

func TestBuildCache(t *testing.T) {
	f := newFake()
	files := map[string]string{"Dockerfile": "FROM busybox\nCOPY a /a\nRUN echo x\nENV A=1\n", "a": "content"}
	first, _ := mustRun(t, f, files, Options{})
	again, out := mustRun(t, f, files, Options{Tags: []string{"t1"}})
	if first != again || strings.Count(out, "Using cache") != 3 || len(f.runs) != 1 {
		t.Errorf("second build did not use the cache (runs %d):\n%s", len(f.runs), out)
	}
	files["a"] = "changed"
	_, out = mustRun(t, f, files, Options{})
	if strings.Contains(out, "Using cache") || len(f.runs) != 2 {
		t.Errorf("changed COPY source still hit the cache:\n%s", out)
	}
	_, out = mustRun(t, f, files, Options{NoCache: true})
	if strings.Contains(out, "Using cache") {
		t.Errorf("nocache used the cache:\n%s", out)
	}
	if f.tags["t1:latest"] == "" {
		t.Errorf("tag missing: %v", f.tags)
	}
}

func TestBuildFailure(t *testing.T) {
	f := newFake()
	_, out, err := runBuild(t, f, map[string]string{"Dockerfile": "FROM busybox\nRUN echo ok\nRUN false\n"}, Options{Tags: []string{"nope"}})
	if err == nil || err.Error() != "The command '/bin/sh -c false' returned a non-zero code: 1" {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if len(f.containers) != 0 || len(f.tags) != 1 {
		t.Errorf("left containers %d, tags %v", len(f.containers), f.tags)
	}
}

func TestBuildCancelRemovesContainers(t *testing.T) {
	f := newFake()
	ctx, cancel := context.WithCancel(t.Context())
	opt := Options{Context: contextTar(t, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep 100\n"}), TempDir: t.TempDir(), Remove: true, Tags: []string{"x"}}
	errc := make(chan error, 1)
	go func() {
		_, err := Build(ctx, f, opt, func(jsonstream.Message) {})
		errc <- err
	}()
	<-f.sleeping
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.containers) != 0 || f.tags["x:latest"] != "" {
		t.Errorf("containers %d tags %v", len(f.containers), f.tags)
	}
}

func TestBuildParseErrorsRunNothing(t *testing.T) {
	for name, df := range map[string]string{
		"unknown":  "FROM busybox\nRUN echo a\nFOO bar\n",
		"no from":  "RUN echo a\n",
		"empty":    "# nothing\n",
		"bad from": "FROM a b c d\n",
		"no args":  "FROM busybox\nRUN echo a\nWORKDIR\n",
	} {
		f := newFake()
		_, _, err := runBuild(t, f, map[string]string{"Dockerfile": df}, Options{})
		if !errdefs.IsInvalidParameter(err) || len(f.runs) != 0 {
			t.Errorf("%s: err %v, runs %q", name, err, f.runs)
		}
	}
	if _, _, err := runBuild(t, newFake(), map[string]string{"dockerfile": "FROM busybox\n"}, Options{Dockerfile: "Dockerfile"}); err != nil {
		t.Errorf("lower-case dockerfile: %v", err)
	}
	_, _, err := runBuild(t, newFake(), map[string]string{"Dockerfile": "FROM busybox\n"}, Options{Dockerfile: "other/Dockerfile"})
	if err == nil || err.Error() != "Cannot locate specified Dockerfile: other/Dockerfile" {
		t.Errorf("missing Dockerfile: %v", err)
	}
}

func TestBuildCopy(t *testing.T) {
	ctxFiles := map[string]string{
		"a.txt": "A", "b.txt": "B", "dir/": "", "dir/x": "X", "dir/sub/": "", "dir/sub/y": "Y",
		"arch.tar": tarString(t, map[string]string{"in/z": "Z"}),
		"v1./":     "", "v1./f": "F",
	}
	tests := []struct {
		df   string
		want map[string]string
	}{
		{"COPY a.txt /f", map[string]string{"/f": "A"}},
		{"COPY a.txt /d/", map[string]string{"/d/a.txt": "A"}},
		{"WORKDIR /w\nCOPY a.txt .", map[string]string{"/w/a.txt": "A"}},
		{"WORKDIR /w\nCOPY a.txt rel", map[string]string{"/w/rel": "A"}},
		{"COPY dir /t", map[string]string{"/t/x": "X", "/t/sub/y": "Y"}},
		{"COPY v1. /v", map[string]string{"/v/f": "F"}},
		{"COPY . /all/", map[string]string{"/all/dir/sub/y": "Y", "/all/a.txt": "A"}},
		{"COPY *.txt /m/", map[string]string{"/m/a.txt": "A", "/m/b.txt": "B"}},
		{"COPY [\"a.txt\", \"b.txt\", \"/j/\"]", map[string]string{"/j/a.txt": "A", "/j/b.txt": "B"}},
		{"ADD arch.tar /x/", map[string]string{"/x/in/z": "Z"}},
		{"COPY arch.tar /x/", map[string]string{"/x/arch.tar": ctxFiles["arch.tar"]}},
		{"COPY --chown=1:2 a.txt /o", map[string]string{"/o": "A", "/o#owner": "1:2"}},
		{"COPY a.txt /bin", map[string]string{"/bin/a.txt": "A", "/bin/sh": "sh", "/bin": "/"}},
		{"COPY --from=busybox /bin/sh /bin", map[string]string{"/bin/sh": "sh", "/bin": "/"}},
		{"COPY --from=busybox /bin/sh /tmp/", map[string]string{"/tmp/sh": "sh"}},
		{"COPY --from=busybox /bin/sh /new", map[string]string{"/new": "sh"}},
	}
	for _, tc := range tests {
		files := map[string]string{"Dockerfile": "FROM busybox\n" + tc.df + "\n"}
		for k, v := range ctxFiles {
			files[k] = v
		}
		img, _ := mustRun(t, newFake(), files, Options{})
		for p, content := range tc.want {
			if img.files[p] != content {
				t.Errorf("%q: %s = %q, want %q (files %v)", tc.df, p, img.files[p], content, img.files)
			}
		}
	}
}

func TestBuildCopyErrors(t *testing.T) {
	for df, want := range map[string]string{
		"COPY a.txt b.txt /notdir": "When using COPY with more than one source file, the destination must be a directory and end with a /",
		"COPY missing /x":          "COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist",
		"COPY *.none /x/":          "COPY failed: no source files were specified",
		"ADD http://h/f /x":        "ADD from a URL (http://h/f) is not supported by this builder: download the file into the build context",
		"COPY --chmod=644 a.txt /": "unknown flag: chmod",
	} {
		_, _, err := runBuild(t, newFake(), map[string]string{"Dockerfile": "FROM busybox\n" + df + "\n", "a.txt": "A", "b.txt": "B"}, Options{})
		if err == nil || err.Error() != want {
			t.Errorf("%s: err %v, want %q", df, err, want)
		}
	}
}

func TestBuildDockerignore(t *testing.T) {
	img, _ := mustRun(t, newFake(), map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\n",
		".dockerignore": "# comment\nDockerfile\nsecret*\nlogs\n!logs/keep.log\n",
		"secret.key":    "s", "logs/": "", "logs/a.log": "a", "logs/keep.log": "k", "app.go": "go",
	}, Options{})
	for p, want := range map[string]string{"/ctx/app.go": "go", "/ctx/logs/keep.log": "k", "/ctx/.dockerignore": ""} {
		if _, ok := img.files[p]; !ok || (want != "" && img.files[p] != want) {
			t.Errorf("%s = %q, want %q", p, img.files[p], want)
		}
	}
	for _, p := range []string{"/ctx/secret.key", "/ctx/logs/a.log", "/ctx/Dockerfile"} {
		if _, ok := img.files[p]; ok {
			t.Errorf("%s was not ignored", p)
		}
	}
}

func TestBuildMultiStage(t *testing.T) {
	f := newFake()
	df := `ARG BASE=busybox
FROM ${BASE} AS builder
RUN echo build
COPY a.txt /out/a
FROM builder AS tester
RUN echo test
FROM busybox
COPY --from=builder /out /copied
COPY --from=0 /out/a /single
`
	img, _ := mustRun(t, f, map[string]string{"Dockerfile": df, "a.txt": "A"}, Options{})
	if img.files["/copied/a"] != "A" || img.files["/single"] != "A" || img.files["/out/a"] != "" {
		t.Errorf("files = %v", img.files)
	}
	if len(f.runs) != 2 {
		t.Errorf("runs = %q", f.runs)
	}
	f = newFake()
	img, _ = mustRun(t, f, map[string]string{"Dockerfile": df, "a.txt": "A"}, Options{Target: "builder"})
	if len(f.runs) != 1 || img.files["/out/a"] != "A" {
		t.Errorf("target builder: runs %q files %v", f.runs, img.files)
	}
	_, _, err := runBuild(t, newFake(), map[string]string{"Dockerfile": df, "a.txt": "A"}, Options{Target: "nope"})
	if err == nil || err.Error() != "failed to reach build target nope in Dockerfile" {
		t.Errorf("unknown target: %v", err)
	}
}

func TestBuildWarnsAboutUnstoredFields(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM busybox\nHEALTHCHECK NONE\nSHELL [\"/bin/ash\", \"-c\"]\n"}
	_, out, err := runBuild(t, newFake(), files, Options{Unstored: []string{"shell"}})
	if err != nil || !strings.Contains(out, "[Warning] SHELL is applied within this build only") || strings.Contains(out, "HEALTHCHECK is applied") {
		t.Errorf("err %v output:\n%s", err, out)
	}
}

func TestBuildOnbuildTriggers(t *testing.T) {
	f := newFake()
	f.images["sha256:base"].cfg.OnBuild = []string{"RUN echo trigger", "ENV FROM_TRIGGER=1"}
	img, out := mustRun(t, f, map[string]string{"Dockerfile": "FROM busybox\nONBUILD RUN echo later\n"}, Options{})
	if !strings.Contains(out, "# Executing 2 build triggers") || len(f.runs) != 1 || !slices.Contains(img.cfg.Env, "FROM_TRIGGER=1") {
		t.Errorf("runs %q env %q output:\n%s", f.runs, img.cfg.Env, out)
	}
	if !slices.Equal(img.cfg.OnBuild, []string{"RUN echo later"}) {
		t.Errorf("OnBuild = %q", img.cfg.OnBuild)
	}
}

func TestBuildPlainDockerfileBody(t *testing.T) {
	f := newFake()
	opt := Options{Context: strings.NewReader("FROM busybox\nRUN echo plain\n"), TempDir: t.TempDir(), Remove: true}
	if _, err := Build(t.Context(), f, opt, func(jsonstream.Message) {}); err != nil || len(f.runs) != 1 {
		t.Errorf("plain Dockerfile body: %v, runs %q", err, f.runs)
	}
}

func TestBuildPlatform(t *testing.T) {
	f := newFake()
	if _, _, err := runBuild(t, f, map[string]string{"Dockerfile": "FROM busybox\n"}, Options{Platform: "linux/" + runtime.GOARCH}); err != nil {
		t.Errorf("own platform: %v", err)
	}
	_, _, err := runBuild(t, f, map[string]string{"Dockerfile": "FROM busybox\n"}, Options{Platform: "linux/s390x-not"})
	if !errdefs.IsInvalidParameter(err) {
		t.Errorf("foreign platform: %v", err)
	}
	_, out, err := runBuild(t, f, map[string]string{"Dockerfile": "FROM --platform=linux/s390x busybox\n"}, Options{})
	if err != nil || !strings.Contains(out, "[Warning] FROM --platform=linux/s390x ignored") {
		t.Errorf("FROM --platform: %v\n%s", err, out)
	}
}

func TestBuildLabelsQuietScratch(t *testing.T) {
	f := newFake()
	var msgs []jsonstream.Message
	opt := Options{
		Context: contextTar(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "A"}), TempDir: t.TempDir(),
		Quiet: true, Labels: map[string]string{"k": "v w"}, Remove: true,
	}
	id, err := Build(t.Context(), f, opt, func(m jsonstream.Message) { msgs = append(msgs, m) })
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Aux == nil || msgs[1].Stream != id+"\n" {
		t.Errorf("quiet output = %+v", msgs)
	}
	img := f.images[id]
	if img.cfg.Labels["k"] != "v w" || img.files["/a"] != "A" {
		t.Errorf("labels %v files %v", img.cfg.Labels, img.files)
	}
}

// tarString is a tar archive with the given files, as a string.
func tarString(t *testing.T, files map[string]string) string {
	t.Helper()
	data, err := io.ReadAll(contextTar(t, files))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
