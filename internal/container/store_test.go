package container

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockerd-lite/dockerd-lite/internal/errdefs"
)

func newContainer(name string) *Container {
	return &Container{ID: NewID(), Name: name, Created: time.Now(), State: State{Status: container.StateCreated}}
}

func TestStoreLookupAndPersistence(t *testing.T) {
	root := t.TempDir()
	s, _, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	a := newContainer("web")
	if err := s.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(newContainer("web")); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate name: %v", err)
	}
	for _, ref := range []string{a.ID, "web", "/web", a.ID[:12], a.ID[:3]} {
		if c, err := s.Get(ref); err != nil || c.ID != a.ID {
			t.Errorf("Get(%q) = %v, %v", ref, c, err)
		}
	}
	if _, err := s.Get("nope"); !errdefs.IsNotFound(err) || err.Error() != "No such container: nope" {
		t.Errorf("missing: %v", err)
	}
	if _, err := s.Update("web", func(c *Container) error { c.Name = "api"; c.State.SetRunning(42, time.Now()); return nil }); err != nil {
		t.Fatal(err)
	}
	s2, skipped, err := Open(root)
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	c, err := s2.Get("api")
	if err != nil || c.State.Pid != 42 || c.State.Status != container.StateRunning {
		t.Fatalf("reloaded: %+v %v", c, err)
	}
	if _, err := s2.Get("web"); !errdefs.IsNotFound(err) {
		t.Errorf("old name still resolves: %v", err)
	}
	if err := s2.Delete(a.ID); err != nil || len(s2.List()) != 0 {
		t.Fatalf("delete: %v", err)
	}
}

func TestWaitConditions(t *testing.T) {
	s, _, _ := Open(t.TempDir())
	a := newContainer("w")
	s.Add(a)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wait := func(ref string, cond WaitCondition) <-chan WaitResult {
		ch, err := s.Wait(ctx, ref, cond)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	if r := <-wait(a.ID, WaitNotRunning); r.Err != nil {
		t.Fatalf("created container is not running: %v", r.Err)
	}
	next, removed := wait(a.ID, WaitNextExit), wait(a.ID, WaitRemoved)
	s.Update(a.ID, func(c *Container) error { c.State.SetRunning(1, time.Now()); return nil })
	s.Update(a.ID, func(c *Container) error { c.State.SetExited(3, false, time.Now()); return nil })
	if r := <-next; r.State.ExitCode != 3 || r.Err != nil {
		t.Fatalf("next-exit: %+v", r)
	}
	if err := s.Delete(a.ID); err != nil {
		t.Fatal(err)
	}
	if r := <-removed; r.Err != nil {
		t.Fatalf("removed: %v", r.Err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	b := newContainer("b")
	s.Add(b)
	ch, _ := s.Wait(short, b.ID, WaitNextExit)
	if r := <-ch; r.Err == nil {
		t.Fatal("wait returned without an exit")
	}
}

func TestNames(t *testing.T) {
	for _, n := range []string{"a", "-x", "a b", "é"} {
		if ValidateName(n) == nil {
			t.Errorf("%q accepted", n)
		}
	}
	if err := ValidateName("/my_app.1-2"); err != nil {
		t.Error(err)
	}
	if n := RandomName(0); ValidateName(n) != nil {
		t.Errorf("random name %q invalid", n)
	}
}
