package staffing

import (
	"testing"
	"time"
)

func TestPlanSizesEachIntervalAndSumsDays(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	goal := Forecast{Interval: 30 * time.Minute, AHT: 180 * time.Second, TargetSL: 0.8, TargetTime: 20 * time.Second,
		MaxOccupancy: 0.85, Shrinkage: 0.3}
	mon := time.Date(2026, 11, 23, 9, 0, 0, 0, ny)
	demand := []Demand{
		{Start: mon, Arrivals: 100},                                        // the worked example: 14 agents, 20 scheduled
		{Start: mon.Add(30 * time.Minute), Arrivals: 0},                    // nobody calls: nobody needed
		{Start: mon.Add(time.Hour), Arrivals: 100, AHT: 360 * time.Second}, // twice the work
		{Start: mon.AddDate(0, 0, 1), Arrivals: 100},
	}
	slots, days, err := Plan(demand, goal, ny)
	if err != nil {
		t.Fatal(err)
	}
	if slots[0].Agents != 14 || slots[0].ScheduledAgents != 20 || slots[1].Agents != 0 || slots[1].ScheduledAgents != 0 {
		t.Fatalf("slots: %+v %+v", slots[0].Result, slots[1].Result)
	}
	c, _ := ErlangC(Forecast{Arrivals: 100, Interval: 30 * time.Minute, AHT: 360 * time.Second, TargetSL: 0.8, TargetTime: 20 * time.Second, MaxOccupancy: 0.85, Shrinkage: 0.3})
	if slots[2].Agents != c.Agents || slots[2].AHT != 360*time.Second {
		t.Fatalf("an interval's own handle time is used: %+v, want %d agents", slots[2], c.Agents)
	}
	if len(days) != 2 || !days[0].Date.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, ny)) {
		t.Fatalf("days: %+v", days)
	}
	d := days[0]
	if d.Arrivals != 200 || d.PeakAgents != c.Agents || d.PeakScheduled != c.ScheduledAgents ||
		d.AgentHours != float64(14+c.Agents)*0.5 || !d.BusiestInterval.Equal(mon.Add(time.Hour)) {
		t.Fatalf("Monday: %+v", d)
	}
	if days[1].PeakAgents != 14 || days[1].AgentHours != 7 {
		t.Fatalf("Tuesday: %+v", days[1])
	}
	goal.Patience = 60 * time.Second
	slots, _, err = Plan(demand[:1], goal, ny)
	a, _ := ErlangA(Forecast{Arrivals: 100, Interval: 30 * time.Minute, AHT: 180 * time.Second, TargetSL: 0.8, TargetTime: 20 * time.Second, MaxOccupancy: 0.85, Shrinkage: 0.3, Patience: 60 * time.Second})
	if err != nil || slots[0].Agents != a.Agents || slots[0].AbandonProbability != a.AbandonProbability {
		t.Fatalf("with patience the plan uses Erlang A: %+v %v", slots[0].Result, err)
	}
}
