package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"slices"
	"strings"
)

// junit is the part of a ginkgo JUnit report read here.
type junit struct {
	Suites []struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Status  string    `xml:"status,attr"`
			Failure *struct{} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// outcomes maps each spec of a report to passed, failed or skipped.
func outcomes(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j junit
	if err := xml.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := map[string]string{}
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			// Suite set-up nodes ("[BeforeSuite]") are not specs.
			if strings.HasPrefix(c.Name, "[") && strings.HasSuffix(c.Name, "Suite]") {
				continue
			}
			switch {
			case c.Failure != nil || c.Error != nil || c.Status == "failed" || c.Status == "panicked" || c.Status == "timedout" || c.Status == "interrupted":
				out[c.Name] = "failed"
			case c.Skipped != nil || c.Status == "skipped" || c.Status == "pending":
				out[c.Name] = "skipped"
			default:
				out[c.Name] = "passed"
			}
		}
	}
	return out, nil
}

func count(m map[string]string, outcome string) int {
	n := 0
	for _, o := range m {
		if o == outcome {
			n++
		}
	}
	return n
}

// report prints both runs' counts, then the specs that failed in one run
// and passed in the other.
func report(runcPath, cmPath string) error {
	runc, err := outcomes(runcPath)
	if err != nil {
		return err
	}
	cm, err := outcomes(cmPath)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		m    map[string]string
	}{{"runc ", runc}, {"cmrun", cm}} {
		fmt.Printf("critest %s: %d passed, %d failed, %d skipped (of %d specs)\n",
			r.name, count(r.m, "passed"), count(r.m, "failed"), count(r.m, "skipped"), len(r.m))
	}
	var names []string
	for n := range cm {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if cm[n] == "failed" && runc[n] == "passed" {
			fmt.Printf("  failed only with cmrun: %s\n", n)
		}
		if runc[n] == "failed" && cm[n] == "passed" {
			fmt.Printf("  failed only with runc:  %s\n", n)
		}
	}
	return nil
}
