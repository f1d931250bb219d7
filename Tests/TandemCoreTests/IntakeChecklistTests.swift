import Foundation
import Testing

@testable import TandemCore

/// The activation checklist (SPEC §6): what a site still needs before its help desk goes live.
@Suite struct IntakeChecklistTests {
    let complete = ActivationFacts(
        hasMainPhone: true, clientEmailDomain: "contoso.example", greetingCompanyName: "Contoso", escalationContacts: 2,
        helpDeskContactName: "Dana Diaz", clientProfiles: 2, managedDevicesWithAgent: 1, securityRequestsConfigured: true,
        networkInformationPresent: true)

    @Test func aCompleteSiteIsReady() {
        let checklist = ActivationChecklist.evaluate(complete)

        #expect(checklist.ready)
        #expect(
            checklist.items.map(\.key) == [
                "mainPhone", "clientEmailDomain", "greetingCompanyName", "notificationRule", "helpDeskContact", "clientProfiles", "managedDevices",
                "securityRequests", "networkInformation",
            ])
        #expect(checklist.items.allSatisfy { $0.done })
        #expect(
            checklist.items.map(\.detail)[1...6] == [
                "Mail from contoso.example identifies the site", "Calls are answered \"Thank you for calling Contoso\"",
                "The notification rule escalates to 2 contacts", "Dana Diaz is the help desk contact", "2 client profiles",
                "1 managed device with the agent installed",
            ])
    }

    @Test func anEmptySiteNamesEverythingMissing() {
        let checklist = ActivationChecklist.evaluate(ActivationFacts(securityRequestsConfigured: false, networkInformationPresent: false))

        #expect(!checklist.ready)
        #expect(checklist.items.count == 9 && checklist.items.allSatisfy { !$0.done })
        #expect(
            checklist.items.first { $0.key == "managedDevices" }?.detail
                == "No managed device with an agent installed: install the agent on at least one device of this site")
        #expect(
            checklist.items.first { $0.key == "clientProfiles" }?.detail
                == "No client profiles: add the people the help desk supports, one at a time or in bulk")
        #expect(checklist.items.first { $0.key == "notificationRule" }?.detail == "No notification rule: name at least one contact the help desk escalates to")
    }

    @Test func featuresTandemDoesNotHaveYetAreLeftOut() {
        var facts = complete
        facts.securityRequestsConfigured = nil
        facts.networkInformationPresent = nil

        let checklist = ActivationChecklist.evaluate(facts)

        #expect(checklist.ready)
        #expect(checklist.items.map(\.key).suffix(2) == ["clientProfiles", "managedDevices"])
    }

    /// Each item alone keeps a site from going live.
    @Test(arguments: [
        "mainPhone", "clientEmailDomain", "greetingCompanyName", "notificationRule", "helpDeskContact", "clientProfiles", "managedDevices",
        "securityRequests", "networkInformation",
    ])
    func eachMissingItemBlocks(_ key: String) {
        var facts = complete
        switch key {
        case "mainPhone": facts.hasMainPhone = false
        case "clientEmailDomain": facts.clientEmailDomain = nil
        case "greetingCompanyName": facts.greetingCompanyName = nil
        case "notificationRule": facts.escalationContacts = 0
        case "helpDeskContact": facts.helpDeskContactName = nil
        case "clientProfiles": facts.clientProfiles = 0
        case "managedDevices": facts.managedDevicesWithAgent = 0
        case "securityRequests": facts.securityRequestsConfigured = false
        default: facts.networkInformationPresent = false
        }

        let checklist = ActivationChecklist.evaluate(facts)

        #expect(!checklist.ready)
        #expect(checklist.items.filter { !$0.done }.map(\.key) == [key])
    }

    @Test func noClientEmailDomainChosenOnPurposeIsDone() {
        var facts = complete
        facts.clientEmailDomain = nil
        facts.noClientEmailDomain = true

        let item = ActivationChecklist.evaluate(facts).items[1]

        #expect(item == ChecklistItem(key: "clientEmailDomain", done: true, detail: "No client email domain: only mail from known contacts becomes tickets"))
    }

    @Test func factsComeFromTheProfile() throws {
        let profile = SiteHelpDeskProfile(
            mainPhone: try PhoneNumber.parse("+44 20 7946 0958", defaultCountry: nil).get(), noClientEmailDomain: true, greetingCompanyName: "Contoso")
        let facts = ActivationFacts(profile: profile)
        #expect(facts.hasMainPhone && facts.noClientEmailDomain && facts.greetingCompanyName == "Contoso" && facts.clientEmailDomain == nil)
        #expect(ActivationFacts(profile: nil) == ActivationFacts())
        let json = try JSONEncoder().encode(ActivationChecklist.evaluate(facts))
        #expect(try JSONDecoder().decode(ActivationChecklist.self, from: json) == ActivationChecklist.evaluate(facts))
    }
}
