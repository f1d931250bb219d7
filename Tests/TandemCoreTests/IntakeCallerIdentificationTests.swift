import Foundation
import Testing

@testable import TandemCore

/// Caller identification (SPEC §6): who may be calling, what tells them apart, what to say and know.
@Suite struct IntakeCallerIdentificationTests {
    let contoso = UUID(), fabrikam = UUID(), seattle = UUID(), tacoma = UUID(), berlin = UUID()
    let ann = UUID(), bob = UUID(), dana = UUID()
    let phone = try! PhoneNumber.parse("+1 206 555 0100", defaultCountry: nil).get()

    func caller(_ id: UUID, _ first: String, organization: UUID, site: UUID?, siteName: String? = nil) -> CallerCandidate {
        CallerCandidate(
            contactId: id, firstName: first, lastName: "Able", email: "\(first.lowercased())@contoso.example", title: "Office manager",
            organizationId: organization, organizationName: organization == contoso ? "Contoso Ltd" : "Fabrikam", siteId: site, siteName: siteName,
            phoneKind: .office)
    }

    func site(_ id: UUID, _ name: String, organization: UUID, mainPhone: Bool = false) -> SiteCandidate {
        SiteCandidate(
            siteId: id, siteName: name, organizationId: organization, organizationName: organization == contoso ? "Contoso Ltd" : "Fabrikam",
            profile: SiteHelpDeskProfile(greetingCompanyName: name == "Seattle" ? "Contoso" : nil, siteMessage: "\(name): email is down tonight"),
            callBeforeEscalating: [CallBeforeContact(contactId: dana, name: "Dana Diaz", phone: "+12065550199")],
            securityRequests: "Password resets need Dana's approval", isMainPhone: mainPhone)
    }

    @Test func oneCallerSettlesTheSite() {
        let answer = CallerIdentification.identify(
            phone: phone, callers: [caller(ann, "Ann", organization: contoso, site: seattle, siteName: "Seattle")],
            sites: [site(seattle, "Seattle", organization: contoso)])

        #expect(answer.phone == "+12065550100")
        #expect(answer.callers.map(\.contactId) == [ann])
        #expect(answer.callers[0].email == "ann@contoso.example" && answer.callers[0].title == "Office manager")
        #expect(answer.site?.siteId == seattle && answer.site?.organizationName == "Contoso Ltd")
        #expect(!answer.ambiguous && answer.ambiguityReason == nil)
        #expect(answer.greeting == "Thank you for calling Contoso")
        #expect(answer.siteMessage == "Seattle: email is down tonight")
        #expect(answer.callBeforeEscalating.map(\.name) == ["Dana Diaz"])
        #expect(answer.securityRequests == "Password resets need Dana's approval")
    }

    @Test func theSitesMainPhoneSettlesItWithoutACaller() {
        let answer = CallerIdentification.identify(phone: phone, callers: [], sites: [site(tacoma, "Tacoma", organization: contoso, mainPhone: true)])

        #expect(answer.callers.isEmpty && answer.site?.siteId == tacoma && !answer.ambiguous)
        #expect(answer.greeting == "Thank you for calling Contoso Ltd", "no greeting name: the organization's")
    }

    @Test func severalCallersAtOneSiteAskForTheName() {
        let answer = CallerIdentification.identify(
            phone: phone,
            callers: [caller(ann, "Ann", organization: contoso, site: seattle), caller(bob, "Bob", organization: contoso, site: seattle)],
            sites: [site(seattle, "Seattle", organization: contoso, mainPhone: true)])

        #expect(answer.ambiguous)
        #expect(answer.ambiguityReason == "2 contacts share this number: ask the caller's name")
        #expect(answer.site?.siteId == seattle && answer.siteMessage != nil, "the site is still settled")
    }

    @Test func callersAtTwoSitesAskWhere() {
        let answer = CallerIdentification.identify(
            phone: phone,
            callers: [caller(ann, "Ann", organization: contoso, site: seattle), caller(bob, "Bob", organization: contoso, site: tacoma)],
            sites: [site(seattle, "Seattle", organization: contoso), site(tacoma, "Tacoma", organization: contoso)])

        #expect(answer.ambiguous && answer.site == nil && answer.siteMessage == nil && answer.callBeforeEscalating.isEmpty)
        #expect(answer.ambiguityReason == "2 contacts share this number: ask the caller's name; the number belongs to 2 sites: ask where the caller is")
        #expect(answer.greeting == "Thank you for calling Contoso Ltd", "one organization: its name")
    }

    @Test func callersInTwoOrganizationsAskWhichCompany() {
        let answer = CallerIdentification.identify(
            phone: phone,
            callers: [caller(ann, "Ann", organization: contoso, site: seattle), caller(bob, "Bob", organization: fabrikam, site: berlin)],
            sites: [site(seattle, "Seattle", organization: contoso), site(berlin, "Berlin", organization: fabrikam)])

        #expect(answer.ambiguous && answer.site == nil && answer.greeting == nil)
        #expect(answer.ambiguityReason?.contains("the number belongs to 2 organizations: ask which company they call for") == true)
        #expect(answer.callers.map(\.organizationName) == ["Contoso Ltd", "Fabrikam"], "what tells them apart")
    }

    @Test func aCallerAndAnotherSitesMainPhoneAreAmbiguous() {
        let answer = CallerIdentification.identify(
            phone: phone, callers: [caller(ann, "Ann", organization: contoso, site: seattle)],
            sites: [site(seattle, "Seattle", organization: contoso), site(tacoma, "Tacoma", organization: contoso, mainPhone: true)])

        #expect(answer.ambiguous && answer.site == nil)
        #expect(answer.ambiguityReason == "the number belongs to 2 sites: ask where the caller is")
    }

    @Test func anUnknownNumberIsUnknownNotAmbiguous() throws {
        let answer = CallerIdentification.identify(phone: phone, callers: [], sites: [])

        #expect(answer.callers.isEmpty && answer.site == nil && !answer.ambiguous && answer.greeting == nil)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(answer)) as! [String: Any]
        #expect(json["phone"] as? String == "+12065550100" && json["callBeforeEscalating"] is [Any])
    }
}
