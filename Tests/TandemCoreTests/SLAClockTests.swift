import Foundation
import TandemCore
import Testing

/// SLA clocks read from a ticket's timeline, in business time of New York office hours (Monday to
/// Friday 08:00–18:00, EST = UTC−5 in December): counting, pausing while waiting on the customer,
/// stopping at the response and the resolution, and the time of each side of a handoff.
@Suite struct SLAClockTests {
    let office = BusinessCalendar(
        timeZone: "America/New_York", days: (1...5).map { BusinessDay(weekday: $0, start: "08:00", end: "18:00") }, holidays: ["2026-12-25"])!
    /// First response in an hour, resolution in a working day; approaching at 80 %.
    let targets = SLATargets(firstResponseMinutes: 60, resolutionMinutes: 600)

    /// Monday 2026-12-07 at a New York wall-clock time.
    static func monday(_ time: String) -> Date { local("2026-12-07", time) }
    static func local(_ day: String, _ time: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: "\(day)T\(time):00-05:00")!
    }

    func clock(_ entries: [SLATimeline.Entry], created: Date = monday("09:00"), now: Date) -> SLAClock {
        SLAClock(targets: targets, timeline: SLATimeline(createdAt: created, entries: entries), calendar: office, now: now)
    }

    @Test func aNewTicketRunsThenApproachesThenBreaches() {
        let running = clock([], now: Self.monday("09:30"))
        #expect(running.firstResponse.state == .running)
        #expect(running.firstResponse.elapsedMinutes == 30 && running.firstResponse.remainingMinutes == 30)
        #expect(running.firstResponse.dueAt == Self.monday("10:00"))
        #expect(running.resolution.dueAt == Self.local("2026-12-08", "09:00"))  // ten working hours: 9 today, 1 tomorrow

        let approaching = clock([], now: Self.monday("09:50"))
        #expect(approaching.firstResponse.state == .approaching)
        #expect(approaching.firstResponse.approachedAt == Self.monday("09:48"))

        let breached = clock([], now: Self.monday("10:01"))
        #expect(breached.firstResponse.state == .breached)
        #expect(breached.firstResponse.breachedAt == Self.monday("10:00"))
        #expect(breached.firstResponse.breachedBy == .msp)
        #expect(breached.firstResponse.dueAt == nil)
        #expect(breached.resolution.state == .running)
    }

    /// What the SLA watch schedules: the next moment a clock can raise an alert it has not raised, in business time.
    @Test func theNextAlertIsTheApproachingShareThenTheTarget() {
        // Friday 17:30, first response in an hour: 30 minutes count today, the share (48) is reached Monday 08:18.
        let friday = clock([], created: Self.local("2026-12-04", "17:30"), now: Self.local("2026-12-04", "17:45"))
        #expect(friday.firstResponse.approachesAt == Self.local("2026-12-07", "08:18"))
        #expect(friday.firstResponse.nextAlert(approachingRaised: false, breachedRaised: false) == Self.local("2026-12-07", "08:18"))
        // Raised already (a policy edit can move the share later): the target is next.
        #expect(friday.firstResponse.nextAlert(approachingRaised: true, breachedRaised: false) == Self.local("2026-12-07", "08:30"))
        #expect(friday.firstResponse.nextAlert(approachingRaised: true, breachedRaised: true) == nil)

        // Past the share: the target; paused (waiting on the customer) or stopped: nothing until the ticket changes.
        let approaching = clock([], now: Self.monday("09:50"))
        #expect(approaching.firstResponse.approachesAt == nil)
        #expect(approaching.firstResponse.nextAlert(approachingRaised: true, breachedRaised: false) == Self.monday("10:00"))
        let paused = clock([.init(at: Self.monday("09:20"), .status(.waitingCustomer))], now: Self.monday("13:00"))
        #expect(paused.clocks.allSatisfy { $0.nextAlert(approachingRaised: false, breachedRaised: false) == nil })
        let met = clock([.init(at: Self.monday("09:40"), .responded)], now: Self.monday("12:00"))
        #expect(met.firstResponse.nextAlert(approachingRaised: false, breachedRaised: false) == nil)
        #expect(met.resolution.nextAlert(approachingRaised: false, breachedRaised: false) == Self.monday("17:00"))
    }

    @Test func theResponseStopsTheFirstResponseClock() {
        let met = clock([.init(at: Self.monday("09:40"), .responded)], now: Self.monday("12:00"))
        #expect(met.firstResponse.state == .met)
        #expect(met.firstResponse.elapsedMinutes == 40 && met.firstResponse.stoppedAt == Self.monday("09:40"))
        #expect(met.resolution.state == .running && met.resolution.elapsedMinutes == 180)

        let late = clock([.init(at: Self.monday("10:30"), .responded)], now: Self.monday("12:00"))
        #expect(late.firstResponse.state == .breached && late.firstResponse.elapsedMinutes == 90)

        // Resolving without a response answers the request too.
        let resolved = clock([.init(at: Self.monday("09:20"), .status(.resolved))], now: Self.monday("12:00"))
        #expect(resolved.firstResponse.state == .met && resolved.resolution.state == .met)
        #expect(resolved.resolution.elapsedMinutes == 20 && resolved.resolution.stoppedAt == Self.monday("09:20"))
    }

    @Test func waitingCustomerPausesBothClocksAndTheyResume() {
        let entries: [SLATimeline.Entry] = [
            .init(at: Self.monday("09:20"), .status(.waitingCustomer)),
            .init(at: Self.monday("14:00"), .status(.inProgress)),
        ]
        let paused = clock(Array(entries.prefix(1)), now: Self.monday("13:00"))
        #expect(paused.firstResponse.state == .paused && paused.firstResponse.elapsedMinutes == 20)
        #expect(paused.firstResponse.dueAt == nil && paused.resolution.state == .paused)

        let resumed = clock(entries, now: Self.monday("14:20"))
        #expect(resumed.firstResponse.state == .running && resumed.firstResponse.elapsedMinutes == 40)
        #expect(resumed.firstResponse.dueAt == Self.monday("14:40"))
        #expect(resumed.resolution.elapsedMinutes == 40)
        // A paused clock past its share stays approaching; one past its target stays breached.
        let pausedLate = clock([.init(at: Self.monday("09:55"), .status(.waitingCustomer))], now: Self.monday("16:00"))
        #expect(pausedLate.firstResponse.state == .approaching)
    }

    @Test func businessHoursCarryTheClockOverTheNightAndTheWeekend() {
        // Friday 17:30: half an hour left today, the rest on Monday morning.
        let friday = clock([], created: Self.local("2026-12-04", "17:30"), now: Self.local("2026-12-06", "12:00"))
        #expect(friday.firstResponse.state == .running && friday.firstResponse.elapsedMinutes == 30)
        #expect(friday.firstResponse.dueAt == Self.local("2026-12-07", "08:30"))
        // Created on a Saturday: nothing counts until Monday 08:00.
        let saturday = clock([], created: Self.local("2026-12-05", "10:00"), now: Self.local("2026-12-07", "08:10"))
        #expect(saturday.firstResponse.elapsedMinutes == 10)
    }

    @Test func aReopenedTicketsResolutionClockRunsOnFromWhereItStopped() {
        let entries: [SLATimeline.Entry] = [
            .init(at: Self.monday("09:10"), .responded),
            .init(at: Self.monday("10:00"), .status(.resolved)),
            .init(at: Self.monday("15:00"), .status(.inProgress)),
        ]
        let reopened = clock(entries, now: Self.monday("16:00"))
        #expect(reopened.resolution.state == .running && reopened.resolution.elapsedMinutes == 120)
        #expect(reopened.resolution.stoppedAt == nil)
        #expect(reopened.firstResponse.state == .met && reopened.firstResponse.elapsedMinutes == 10)
    }

    @Test func eachSidesTimeIsCountedApart() {
        // The MSP answers in 20 minutes and works 2 hours, hands the ticket to the client's IT, who hold it
        // for the rest of Monday and all Tuesday morning; it breaches its resolution target on their side.
        let entries: [SLATimeline.Entry] = [
            .init(at: Self.monday("09:20"), .responded),
            .init(at: Self.monday("11:00"), .handedOff(.clientIT)),
            .init(at: Self.local("2026-12-08", "12:00"), .handedOff(.msp)),
            .init(at: Self.local("2026-12-08", "12:30"), .status(.resolved)),
        ]
        let done = clock(entries, now: Self.local("2026-12-09", "09:00"))
        #expect(done.responsibleSide == .msp)
        #expect(done.firstResponse.state == .met && done.firstResponse.elapsedBySide[.clientIT] == nil)
        let resolution = done.resolution
        #expect(resolution.state == .breached && resolution.breachedBy == .clientIT)
        #expect(resolution.elapsedMinutes(.msp) == 150 && resolution.elapsedMinutes(.clientIT) == 420 + 240)
        #expect(resolution.withinTarget(.msp) && !resolution.withinTarget(.clientIT))
        #expect(resolution.breachedAt == Self.local("2026-12-08", "09:00"))
    }

    /// Compliance counts: per target met, breached or open, and per side for the tickets handed off.
    @Test func complianceCountsEachTargetAndEachSide() {
        let now = Self.local("2026-12-08", "17:00")
        let quick = clock([.init(at: Self.monday("09:10"), .responded), .init(at: Self.monday("10:00"), .status(.resolved))], now: now)
        let slow = clock([], now: now)  // no answer: both targets breached
        let handed = clock(
            [
                .init(at: Self.monday("09:20"), .responded), .init(at: Self.monday("10:00"), .handedOff(.clientIT)),
                .init(at: Self.local("2026-12-08", "12:00"), .handedOff(.msp)),
            ], now: now)
        var compliance = SLACompliance()
        compliance.add(quick, handedOff: false)
        compliance.add(slow, handedOff: false)
        compliance.add(handed, handedOff: true)
        #expect(compliance.tickets == 3 && compliance.handedOffTickets == 1)
        let first = compliance.targets.first { $0.target == .firstResponse }!, resolution = compliance.targets.first { $0.target == .resolution }!
        #expect(first.all == SLACompliance.Counts(met: 2, breached: 1, open: 0))
        #expect(resolution.all == SLACompliance.Counts(met: 1, breached: 2, open: 0))
        // The handed-off ticket: the MSP held it 1 h + 5 h (within 600 minutes), the client's IT 8 h + 4 h (not).
        let sides = Dictionary(uniqueKeysWithValues: resolution.handedOff.map { ($0.side, $0) })
        #expect(sides[.msp] == SLACompliance.SideCounts(side: .msp, withinTarget: 1, overTarget: 0, minutes: 360))
        #expect(sides[.clientIT] == SLACompliance.SideCounts(side: .clientIT, withinTarget: 0, overTarget: 1, minutes: 720))
        #expect(SLATimeline(createdAt: Self.monday("09:00"), entries: [.init(at: Self.monday("10:00"), .handedOff(.clientIT))]).handedOff)
        #expect(!SLATimeline(createdAt: Self.monday("09:00"), entries: [.init(at: Self.monday("10:00"), .responded)]).handedOff)
    }

    @Test func validatesItsTargets() {
        #expect(SLATargets(firstResponseMinutes: 60, resolutionMinutes: 480).problems.isEmpty)
        let fields = { (targets: SLATargets) in targets.problems.map(\.field) }
        #expect(fields(SLATargets(firstResponseMinutes: 0, resolutionMinutes: 480)) == ["firstResponseMinutes"])
        #expect(fields(SLATargets(firstResponseMinutes: 60, resolutionMinutes: 30)) == ["resolutionMinutes"])
        #expect(fields(SLATargets(firstResponseMinutes: 60, resolutionMinutes: 600_000)) == ["resolutionMinutes"])
        #expect(fields(SLATargets(firstResponseMinutes: 60, resolutionMinutes: 480, approachingPercent: 100)) == ["approachingPercent"])
    }
}
