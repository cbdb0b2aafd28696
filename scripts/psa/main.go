// psa evaluates every pod template in a rendered manifest stream (stdin) against a Pod Security
// Standards level, offline, with the same code the API server's admission plugin runs
// (k8s.io/pod-security-admission/policy). Exit 0 when every pod passes, 1 when one does not,
// 2 on bad input.
//
//	helm template ... | psa -level restricted -version latest
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

type header struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// workload is what every pod-template workload shares (Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job): spec.template.
type workload struct {
	Spec struct {
		Template corev1.PodTemplateSpec `json:"template"`
	} `json:"spec"`
}

var workloads = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true}

// podOf returns the pod (template) of a document, or nil for a kind without one.
func podOf(kind string, doc []byte) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	if kind == "Pod" {
		var p corev1.Pod
		err := yaml.Unmarshal(doc, &p)
		return &p.ObjectMeta, &p.Spec, err
	}
	if !workloads[kind] {
		return nil, nil, nil
	}
	var w workload
	err := yaml.Unmarshal(doc, &w)
	return &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, err
}

// documents splits a YAML stream on "---" lines.
func documents(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var current bytes.Buffer
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	flush := func() {
		if strings.TrimSpace(current.String()) != "" {
			docs = append(docs, append([]byte(nil), current.Bytes()...))
		}
		current.Reset()
	}
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "---") {
			flush()
			continue
		}
		current.WriteString(line)
		current.WriteByte('\n')
	}
	flush()
	return docs, scanner.Err()
}

func run(level, version string, in io.Reader, out io.Writer) (int, error) {
	lv, err := psaapi.ParseLevel(level)
	if err != nil {
		return 0, err
	}
	ver, err := psaapi.ParseVersion(version)
	if err != nil {
		return 0, err
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return 0, err
	}
	docs, err := documents(in)
	if err != nil {
		return 0, err
	}
	pods, failed := 0, 0
	for _, doc := range docs {
		var h header
		if err := yaml.Unmarshal(doc, &h); err != nil {
			return 0, fmt.Errorf("not YAML: %w", err)
		}
		meta, spec, err := podOf(h.Kind, doc)
		if err != nil {
			return 0, fmt.Errorf("%s/%s: %w", h.Kind, h.Metadata.Name, err)
		}
		if spec == nil {
			continue
		}
		pods++
		var reasons []string
		for _, result := range evaluator.EvaluatePod(psaapi.LevelVersion{Level: lv, Version: ver}, meta, spec) {
			if !result.Allowed {
				reasons = append(reasons, fmt.Sprintf("%s (%s)", result.ForbiddenReason, result.ForbiddenDetail))
			}
		}
		if len(reasons) > 0 {
			failed++
			fmt.Fprintf(out, "psa: %s/%s violates %s:%s: %s\n", h.Kind, h.Metadata.Name, level, version, strings.Join(reasons, "; "))
		}
	}
	if pods == 0 {
		return 0, errors.New("no pod template in the input")
	}
	fmt.Fprintf(out, "psa: %d pod template(s), %d violate %s:%s\n", pods, failed, level, version)
	return failed, nil
}

func main() {
	level := flag.String("level", "restricted", "Pod Security level: privileged, baseline or restricted")
	version := flag.String("version", "latest", "Pod Security version (v1.30, ..., latest)")
	flag.Parse()
	failed, err := run(*level, *version, os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "psa: %v\n", err)
		os.Exit(2)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
