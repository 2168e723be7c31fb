package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/config"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/demo"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

func openStore(fs *flag.FlagSet, args []string) (*app.Services, error) {
	cfg := config.Defaults()
	cfg.StoreFlags(fs)
	fs.Parse(args)
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func benchContactPoints(ctx context.Context, s *app.Services) ([]id.ID, error) {
	var ids []id.ID
	for _, k := range []struct{ kind, name string }{{"website", "Web shop"}, {"phone", "Support line"}, {"store", "Main Street store"}, {"email", "support@voltmart.example"}, {"mobile_app", "Voltmart app"}} {
		kind, name := contactpoint.Kind(k.kind), k.name
		c, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
		if err != nil {
			return nil, err
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// fill builds a large store through the same Record path the API uses, with
// the demo generator, plus one customer with --hot interactions for the
// timeline benchmark. It prints that customer and an API token.
func fill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	total := fs.Int("interactions", 1000000, "interactions to add")
	customers := fs.Int("customers", 100000, "customer pool of the generator")
	hot := fs.Int("hot", 1000, "interactions of the one customer whose timeline is measured")
	batch := fs.Int("batch", 1000, "interactions per Record call")
	s, err := openStore(fs, args)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	cps, err := demo.CreateContactPoints(ctx, s.ContactPoints)
	if err != nil {
		return err
	}
	gen := demo.NewGenerator(time.Now().UnixNano(), *customers, time.Now(), cps)
	start := time.Now()
	last := start
	done := 0
	hotLeft := *hot
	var hotCustomer id.ID
	for done < *total {
		n := min(*batch, *total-done)
		ins := gen.Next(n)
		// Spread the hot customer's interactions evenly through the history.
		interval := max(1, *total/max(1, *hot))
		for i := range ins {
			if hotLeft > 0 && (done+i)%interval == 0 {
				ins[i].Identifiers = []customer.RawIdentifier{{Kind: "user_id", Value: "tpbench-hot-customer"}}
				ins[i].CustomerID = 0
				hotLeft--
			}
		}
		res, err := s.Interactions.Record(ctx, ins)
		if err != nil {
			return fmt.Errorf("after %d interactions: %w", done, err)
		}
		for i, r := range res {
			if len(ins[i].Identifiers) == 1 && ins[i].Identifiers[0].Value == "tpbench-hot-customer" {
				hotCustomer = r.CustomerID
			}
		}
		done += n
		if done%(100*(*batch)) == 0 || done == *total {
			now := time.Now()
			fmt.Printf("%10d interactions  %8.0f/s (last chunk)  %8.0f/s (overall)\n", done,
				float64(100*(*batch))/now.Sub(last).Seconds(), float64(done)/now.Sub(start).Seconds())
			last = now
		}
	}
	for hotLeft > 0 { // top up, if the sprinkling fell short
		n := min(hotLeft, *batch)
		ins := gen.Next(n)
		for i := range ins {
			ins[i].Identifiers = []customer.RawIdentifier{{Kind: "user_id", Value: "tpbench-hot-customer"}}
			ins[i].CustomerID = 0
		}
		res, err := s.Interactions.Record(ctx, ins)
		if err != nil {
			return err
		}
		hotCustomer = res[0].CustomerID
		hotLeft -= n
	}
	token, _, err := s.Access.CreateToken(ctx, "tpbench", access.Analyst, 0, "tpbench")
	if err != nil {
		return err
	}
	nc, _ := s.Customers.Count(ctx)
	ni, _ := s.Interactions.Count(ctx)
	fmt.Printf("store: %d customers, %d interactions; hot customer %s; token %s\n", nc, ni, hotCustomer, token)
	return nil
}

// identity measures identity resolution as the customer base grows: each
// step adds --step new customers (each first seen with an anonymous id, an
// email and a phone) interleaved with as many events of known customers,
// and prints the rate per step — the curve should stay flat.
func identity(args []string) error {
	fs := flag.NewFlagSet("identity", flag.ExitOnError)
	customers := fs.Int("customers", 1000000, "customers to reach")
	step := fs.Int("step", 100000, "customers per reported step")
	s, err := openStore(fs, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if *step <= 0 || *customers < *step {
		return errors.New("--customers must be at least --step")
	}
	ctx := context.Background()
	cps, err := benchContactPoints(ctx, s)
	if err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	fmt.Printf("| customers | new customers/s | events of known customers/s | resolutions/s |\n|---:|---:|---:|---:|\n")
	made := 0
	seq := 0
	for made < *customers {
		t0 := time.Now()
		for k := 0; k < *step; k += 500 {
			ins := make([]interaction.Input, 0, 1000)
			for j := 0; j < 500; j++ {
				c := made + k + j
				seq++
				ins = append(ins, interaction.Input{
					Identifiers: []customer.RawIdentifier{
						{Kind: "anonymous_id", Value: "anon-" + run + "-" + strconv.Itoa(c)},
						{Kind: "email", Value: "c" + strconv.Itoa(c) + "-" + run + "@example.com"},
						{Kind: "phone", Value: "+1212" + fmt.Sprintf("%07d", c%10000000)},
					},
					ContactPointID: cps[0], Kind: "page_view", Direction: "passive", Source: "tpbench", ExternalID: run + "-" + strconv.Itoa(seq),
				})
				// An event of a customer made earlier, found by email.
				known := (c * 7919) % (made + k + j + 1)
				seq++
				ins = append(ins, interaction.Input{
					Identifiers:    []customer.RawIdentifier{{Kind: "email", Value: "c" + strconv.Itoa(known) + "-" + run + "@example.com"}},
					ContactPointID: cps[1], Kind: "call", Source: "tpbench", ExternalID: run + "-" + strconv.Itoa(seq),
				})
			}
			if _, err := s.Interactions.Record(ctx, ins); err != nil {
				return err
			}
		}
		made += *step
		el := time.Since(t0).Seconds()
		fmt.Printf("| %d | %.0f | %.0f | %.0f |\n", made, float64(*step)/el, float64(*step)/el, float64(2*(*step))/el)
	}
	return nil
}
