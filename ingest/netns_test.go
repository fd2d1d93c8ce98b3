package ingest

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// inNetNS runs child in a network namespace of its own, so that multicast
// never leaves this machine: the test binary runs the named test again
// under unshare --net, where the only interface is a loopback with a
// multicast route. In the outer run it skips loudly without root or tools
// (and fails under CI=true, where they must be there).
func inNetNS(t *testing.T, testName string, child func(t *testing.T)) {
	t.Helper()
	if os.Getenv("RTSP2HLS_NETNS_CHILD") == testName {
		ifs, err := net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range ifs {
			if i.Flags&net.FlagLoopback == 0 {
				t.Fatalf("not in an empty network namespace: interface %s exists; refusing to send multicast", i.Name)
			}
		}
		for _, args := range [][]string{
			{"link", "set", "lo", "up"},
			{"link", "set", "lo", "multicast", "on"},
			{"route", "add", "224.0.0.0/4", "dev", "lo"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
			}
		}
		child(t)
		t.Log("netns child ok")
		return
	}
	if testing.Short() {
		t.Skip("needs a network namespace")
	}
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip("SKIPPED: " + why)
	}
	if os.Geteuid() != 0 {
		skip("a network namespace needs root")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip(tool + " is not installed")
		}
	}
	cmd := exec.Command("unshare", "--net", os.Args[0], "-test.run=^"+testName+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "RTSP2HLS_NETNS_CHILD="+testName)
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("unshare --net: %v", err)
	}
	if !strings.Contains(string(out), "netns child ok") {
		t.Fatal("the test did not run in the namespace")
	}
}
