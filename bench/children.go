package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a server under test, running as a process of its own so that
// its CPU time is its alone and the load comes from outside it.
type child struct {
	name   string
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	exited chan error
}

func (c *child) pid() int           { return c.cmd.Process.Pid }
func (c *child) graphqlURL() string { return c.base + "/graphql" }
func (c *child) metricsURL() string { return c.base + "/metrics" }

// startCarlot runs the server binary (`server serve`) in production mode on
// a free loopback port, with serverEnv's settings over this process's
// environment, and waits until /readyz answers 200.
func (env *environment) startCarlot(ctx context.Context) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	overrides := serverEnv(env.databaseURL)
	overrides["APP_ENV"] = "production"
	overrides["PORT"] = strconv.Itoa(port)
	vars := os.Environ()
	for k, v := range overrides {
		vars = append(vars, k+"="+v) // the last of duplicate keys wins
	}
	cmd := exec.Command(env.serverBin, "serve")
	cmd.Env = vars
	cmd.Stdout, cmd.Stderr = env.logs, env.logs
	c := &child{name: "Carlot", cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if err := c.start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, c.base+"/readyz"); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// startCeiling runs the ceiling binary on the scratch database; it prints
// the address it listens on first.
func (env *environment) startCeiling(ctx context.Context) (*child, error) {
	cmd := exec.Command(env.ceilingBin, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+env.databaseURL)
	cmd.Stderr = env.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &child{name: "the ceiling", cmd: cmd}
	if err := c.start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "http://") {
		c.stop()
		return nil, errors.New("the ceiling did not start (its output is above)")
	}
	c.base = lines.Text()
	if err := c.waitReady(ctx, c.metricsURL()); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *child) start() error {
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	c.exited = make(chan error, 1)
	go func() { c.exited <- c.cmd.Wait() }()
	return nil
}

// waitReady polls url until it answers 200, the child exits, or a minute passes.
func (c *child) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("%s exited before it was ready: %v", c.name, err)
		case <-ctx.Done():
			return fmt.Errorf("%s was not ready at %s: %w", c.name, url, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for the child to exit (killing it after 30 s).
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// freePort asks the kernel for a free loopback port (the child binds it a
// moment later).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
