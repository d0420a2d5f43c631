package config

import (
	"os"
	"path/filepath"
	"strconv"
)

// Env is the part of the process environment that decides defaults.
type Env struct {
	UID           int
	Home          string
	RuntimeDir    string // $XDG_RUNTIME_DIR
	DataHome      string // $XDG_DATA_HOME
	ConfigHome    string // $XDG_CONFIG_HOME
	RuntimeDirSet bool
}

// CurrentEnv reads the environment of this process.
func CurrentEnv() Env {
	home, _ := os.UserHomeDir()
	e := Env{
		UID:        os.Getuid(),
		Home:       home,
		RuntimeDir: os.Getenv("XDG_RUNTIME_DIR"),
		DataHome:   os.Getenv("XDG_DATA_HOME"),
		ConfigHome: os.Getenv("XDG_CONFIG_HOME"),
	}
	e.RuntimeDirSet = e.RuntimeDir != ""
	if e.RuntimeDir == "" {
		e.RuntimeDir = filepath.Join(os.TempDir(), "dockerd-lite-"+strconv.Itoa(e.UID))
	}
	if e.DataHome == "" {
		e.DataHome = filepath.Join(home, ".local", "share")
	}
	if e.ConfigHome == "" {
		e.ConfigHome = filepath.Join(home, ".config")
	}
	return e
}

func (e Env) defaultConfigFile() string {
	if !e.Rootless() {
		return "/etc/dockerd-lite/daemon.json"
	}
	return filepath.Join(e.ConfigHome, "dockerd-lite", "daemon.json")
}

// DefaultSocket is where the API listens when no -H is given.
func (e Env) DefaultSocket() string {
	if !e.Rootless() {
		return "/var/run/docker.sock"
	}
	return filepath.Join(e.RuntimeDir, "docker.sock")
}

func (c *Config) fillDefaults(e Env) {
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if len(c.Hosts) == 0 {
		c.Hosts = []string{"unix://" + e.DefaultSocket()}
	}
	if c.DataRoot == "" {
		c.DataRoot = filepath.Join(e.DataHome, "dockerd-lite")
		if !e.Rootless() {
			c.DataRoot = "/var/lib/dockerd-lite"
		}
	}
	if c.ExecRoot == "" {
		c.ExecRoot = filepath.Join(e.RuntimeDir, "dockerd-lite")
		if !e.Rootless() {
			c.ExecRoot = "/var/run/dockerd-lite"
		}
	}
	c.DataRoot = ResolvePath(c.DataRoot)
	c.ExecRoot = ResolvePath(c.ExecRoot)
	c.ConfigFile = ResolvePath(c.ConfigFile)
	for _, p := range []*string{&c.TLSCACert, &c.TLSCert, &c.TLSKey} {
		*p = ResolvePath(*p)
	}
}
