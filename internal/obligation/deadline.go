package obligation

import (
	"fmt"
	"time"

	// Legal clocks run in Tokyo, Seoul, Singapore and Sydney whatever the
	// host's zoneinfo holds; embedding the database makes that true on any
	// machine, containers without /usr/share/zoneinfo included.
	_ "time/tzdata"
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("obligation: zone %s: %v", name, err))
	}
	return loc
}

var (
	zoneJST = mustZone("Asia/Tokyo")
	zoneKST = mustZone("Asia/Seoul")
	zoneSGT = mustZone("Asia/Singapore")
	zoneAU  = mustZone("Australia/Sydney")
)

// date is a civil date in some zone.
type date struct {
	y int
	m time.Month
	d int
}

func dateIn(t time.Time, loc *time.Location) date {
	y, m, d := t.In(loc).Date()
	return date{y, m, d}
}

func parseDate(s string) date {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic("obligation: bad date in rule table: " + s)
	}
	return date{t.Year(), t.Month(), t.Day()}
}

func (d date) addDays(n int) date {
	t := time.Date(d.y, d.m, d.d+n, 12, 0, 0, 0, time.UTC)
	return date{t.Year(), t.Month(), t.Day()}
}

func (d date) before(o date) bool {
	if d.y != o.y {
		return d.y < o.y
	}
	if d.m != o.m {
		return d.m < o.m
	}
	return d.d < o.d
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// endOfDay is the last second of the day in loc: a deadline "by day X".
func (d date) endOfDay(loc *time.Location) time.Time {
	return time.Date(d.y, d.m, d.d, 23, 59, 59, 0, loc)
}

// jpClosed reports whether Japanese administrative organs are closed on d
// (行政機関の休日に関する法律 art. 1): Saturdays, Sundays, national holidays
// and 29 December to 3 January.
func jpClosed(d date) bool {
	if wd := d.weekday(); wd == time.Saturday || wd == time.Sunday {
		return true
	}
	if (d.m == time.December && d.d >= 29) || (d.m == time.January && d.d <= 3) {
		return true
	}
	return jpHoliday(d)
}

// jpHoliday implements the National Holidays Act (国民の祝日に関する法律) as
// amended up to 2018, which governs every year from 2022, when APPI's
// mandatory reporting began: fixed days, Happy-Monday days, the equinoxes by
// the usual astronomical approximation (valid 1980–2099), substitute
// holidays (art. 3(2)) and a weekday between two holidays (art. 3(3)).
func jpHoliday(d date) bool {
	if jpBaseHoliday(d) {
		return true
	}
	// Substitute holiday: the first non-holiday after a holiday falling on a Sunday.
	if d.weekday() != time.Sunday {
		for p := d.addDays(-1); jpBaseHoliday(p); p = p.addDays(-1) {
			if p.weekday() == time.Sunday {
				return true
			}
		}
	}
	// Citizens' holiday: a day sandwiched between two holidays.
	return d.weekday() != time.Sunday && jpBaseHoliday(d.addDays(-1)) && jpBaseHoliday(d.addDays(1))
}

func jpBaseHoliday(d date) bool {
	nthMonday := func(n int) bool {
		return d.weekday() == time.Monday && (d.d-1)/7 == n-1
	}
	y := float64(d.y - 1980)
	leap := float64((d.y - 1980) / 4)
	switch d.m {
	case time.January:
		return d.d == 1 || nthMonday(2)
	case time.February:
		return d.d == 11 || d.d == 23
	case time.March:
		return d.d == int(20.8431+0.242194*y-leap)
	case time.April:
		return d.d == 29
	case time.May:
		return d.d == 3 || d.d == 4 || d.d == 5
	case time.July:
		return nthMonday(3)
	case time.August:
		return d.d == 11
	case time.September:
		return nthMonday(3) || d.d == int(23.2488+0.242194*y-leap)
	case time.October:
		return nthMonday(2)
	case time.November:
		return d.d == 3 || d.d == 23
	}
	return false
}

// jpNthDay is the deadline of a report due "within n days" of the day the
// business knew, as the PPC guideline (通則編 3-5-3-4) counts it: the day it
// knew is day 1, weekends and holidays count, and when day n falls on a day
// the administrative organs are closed the deadline is the next open day.
func jpNthDay(aware date, n int) date {
	d := aware.addDays(n - 1)
	for jpClosed(d) {
		d = d.addDays(1)
	}
	return d
}
