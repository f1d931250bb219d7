import Foundation
import Testing

@testable import TandemCore

/// E.164 from every common way of writing a number (SPEC §6: caller identification matches on E.164).
@Suite struct IntakePhoneNumberTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var input: String
        var defaultCountry: String?
        var e164: String
        var country: String?
        var `extension`: String? = nil
        var testDescription: String { "\(input) in \(defaultCountry ?? "-")" }
    }

    static let accepted: [Case] = [
        // NANP
        .init(input: "+1 (555) 201-3344", defaultCountry: nil, e164: "+15552013344", country: "US"),
        .init(input: "001 555 201 3344", defaultCountry: nil, e164: "+15552013344", country: "US"),
        .init(input: "555.201.3344", defaultCountry: "US", e164: "+15552013344", country: "US"),
        .init(input: "1-555-201-3344", defaultCountry: "us", e164: "+15552013344", country: "US"),
        .init(input: "15552013344", defaultCountry: "US", e164: "+15552013344", country: "US"),
        .init(input: "+1 416 555 0100", defaultCountry: nil, e164: "+14165550100", country: "CA"),
        .init(input: "(876) 555-0100", defaultCountry: "US", e164: "+18765550100", country: "JM"),
        .init(input: "416-555-0100", defaultCountry: "CA", e164: "+14165550100", country: "CA"),
        .init(input: "011 44 20 7946 0958", defaultCountry: "US", e164: "+442079460958", country: "GB"),
        // GB and the Crown Dependencies
        .init(input: "0044 20 7946 0958", defaultCountry: nil, e164: "+442079460958", country: "GB"),
        .init(input: "+44 (0)20 7946 0958", defaultCountry: nil, e164: "+442079460958", country: "GB"),
        .init(input: "0044 (0)20 7946 0958", defaultCountry: "FR", e164: "+442079460958", country: "GB"),
        .init(input: "+44 020 7946 0958", defaultCountry: nil, e164: "+442079460958", country: "GB"),
        .init(input: "020 7946 0958", defaultCountry: "GB", e164: "+442079460958", country: "GB"),
        .init(input: "020\u{00A0}7946\u{00A0}0958", defaultCountry: "GB", e164: "+442079460958", country: "GB"),
        .init(input: "20 7946 0958", defaultCountry: "GB", e164: "+442079460958", country: "GB"),
        .init(input: "4420 7946 0958", defaultCountry: "GB", e164: "+442079460958", country: "GB"),
        .init(input: "+44 1534 123456", defaultCountry: "JE", e164: "+441534123456", country: "JE"),
        .init(input: "+44 20 7946 0958", defaultCountry: "JE", e164: "+442079460958", country: "GB"),
        .init(input: "01534 123456", defaultCountry: "JE", e164: "+441534123456", country: "JE"),
        .init(input: "+7 727 123 4567", defaultCountry: nil, e164: "+77271234567", country: "KZ"),
        .init(input: "+7 495 123 4567", defaultCountry: "KZ", e164: "+74951234567", country: "RU"),
        .init(input: "＋４４ ２０ ７９４６ ０９５８", defaultCountry: nil, e164: "+442079460958", country: "GB"),
        // Extensions
        .init(input: "+44 20 7946 0958 x123", defaultCountry: nil, e164: "+442079460958", country: "GB", extension: "123"),
        .init(input: "+44 20 7946 0958 ext. 123", defaultCountry: nil, e164: "+442079460958", country: "GB", extension: "123"),
        .init(input: "020 7946 0958 Extension 7", defaultCountry: "GB", e164: "+442079460958", country: "GB", extension: "7"),
        .init(input: "+1 555 201 3344;ext=55", defaultCountry: nil, e164: "+15552013344", country: "US", extension: "55"),
        .init(input: "tel:+49-30-123456;ext=12", defaultCountry: nil, e164: "+4930123456", country: "DE", extension: "12"),
        // Europe
        .init(input: "tel:+49-30-123456", defaultCountry: nil, e164: "+4930123456", country: "DE"),
        .init(input: "030 123456", defaultCountry: "DE", e164: "+4930123456", country: "DE"),
        .init(input: "030/123456", defaultCountry: "DE", e164: "+4930123456", country: "DE"),
        .init(input: "06 12 34 56 78", defaultCountry: "FR", e164: "+33612345678", country: "FR"),
        .init(input: "+33 6 12 34 56 78", defaultCountry: nil, e164: "+33612345678", country: "FR"),
        .init(input: "06 1234 5678", defaultCountry: "IT", e164: "+390612345678", country: "IT"),
        .init(input: "+39 06 1234 5678", defaultCountry: nil, e164: "+390612345678", country: "IT"),
        .init(input: "+39 (0)6 1234 5678", defaultCountry: nil, e164: "+390612345678", country: "IT"),
        .init(input: "312 345 6789", defaultCountry: "IT", e164: "+393123456789", country: "IT"),
        .init(input: "91 123 45 67", defaultCountry: "ES", e164: "+34911234567", country: "ES"),
        .init(input: "+34 911 23 45 67", defaultCountry: nil, e164: "+34911234567", country: "ES"),
        .init(input: "01 234 5678", defaultCountry: "IE", e164: "+35312345678", country: "IE"),
        .init(input: "020-123 4567", defaultCountry: "NL", e164: "+31201234567", country: "NL"),
        .init(input: "02 123 45 67", defaultCountry: "BE", e164: "+3221234567", country: "BE"),
        .init(input: "27 12 34", defaultCountry: "LU", e164: "+352271234", country: "LU"),
        .init(input: "044 668 18 00", defaultCountry: "CH", e164: "+41446681800", country: "CH"),
        .init(input: "+41 44 668 18 00", defaultCountry: nil, e164: "+41446681800", country: "CH"),
        .init(input: "01 234 56 78", defaultCountry: "AT", e164: "+4312345678", country: "AT"),
        .init(input: "212 345 678", defaultCountry: "PT", e164: "+351212345678", country: "PT"),
        .init(input: "32 12 34 56", defaultCountry: "DK", e164: "+4532123456", country: "DK"),
        .init(input: "08-123 456 78", defaultCountry: "SE", e164: "+46812345678", country: "SE"),
        .init(input: "22 12 34 56", defaultCountry: "NO", e164: "+4722123456", country: "NO"),
        .init(input: "09 1234 567", defaultCountry: "FI", e164: "+35891234567", country: "FI"),
        .init(input: "22 123 45 67", defaultCountry: "PL", e164: "+48221234567", country: "PL"),
        .init(input: "221 234 567", defaultCountry: "CZ", e164: "+420221234567", country: "CZ"),
        .init(input: "06 1 234 5678", defaultCountry: "HU", e164: "+3612345678", country: "HU"),
        .init(input: "8 (495) 123-45-67", defaultCountry: "RU", e164: "+74951234567", country: "RU"),
        // Asia, Oceania, Africa, the Americas
        .init(input: "02 9876 5432", defaultCountry: "AU", e164: "+61298765432", country: "AU"),
        .init(input: "1300 123 456", defaultCountry: "AU", e164: "+611300123456", country: "AU"),
        .init(input: "0011 44 20 7946 0958", defaultCountry: "AU", e164: "+442079460958", country: "GB"),
        .init(input: "09 123 4567", defaultCountry: "NZ", e164: "+6491234567", country: "NZ"),
        .init(input: "03-1234-5678", defaultCountry: "JP", e164: "+81312345678", country: "JP"),
        .init(input: "6123 4567", defaultCountry: "SG", e164: "+6561234567", country: "SG"),
        .init(input: "2123 4567", defaultCountry: "HK", e164: "+85221234567", country: "HK"),
        .init(input: "011 2345 6789", defaultCountry: "IN", e164: "+911123456789", country: "IN"),
        .init(input: "011 123 4567", defaultCountry: "ZA", e164: "+27111234567", country: "ZA"),
        .init(input: "(11) 2345-6789", defaultCountry: "BR", e164: "+551123456789", country: "BR"),
        .init(input: "011 91234 5678", defaultCountry: "BR", e164: "+5511912345678", country: "BR"),
        .init(input: "55 1234 5678", defaultCountry: "MX", e164: "+525512345678", country: "MX"),
        .init(input: "04 123 4567", defaultCountry: "AE", e164: "+97141234567", country: "AE"),
        .init(input: "03-123-4567", defaultCountry: "IL", e164: "+97231234567", country: "IL"),
        // Countries known only by their calling code, and numbers of no country
        .init(input: "+234 803 123 4567", defaultCountry: nil, e164: "+2348031234567", country: "NG"),
        .init(input: "+800 1234 5678", defaultCountry: "GB", e164: "+80012345678", country: nil),
    ]

    @Test(arguments: accepted) func readsCommonFormats(_ item: Case) throws {
        let phone = try PhoneNumber.parse(item.input, defaultCountry: item.defaultCountry).get()
        #expect(phone.e164 == item.e164)
        #expect(phone.country == item.country)
        #expect(phone.extension == item.extension)
        #expect("+" + phone.countryCallingCode + phone.nationalNumber == phone.e164)
    }

    static let refused: [(String, String?, PhoneProblem)] = [
        ("", "GB", .noDigits),
        (" -- () ", "GB", .noDigits),
        ("+", nil, .noDigits),
        ("+999 123 4567", nil, .unassignedCallingCode("999")),
        ("00 28 1234 5678", nil, .unassignedCallingCode("281")),
        ("020 7946 0958", nil, .needsCountry),
        ("020 7946 0958", " ", .needsCountry),
        ("555 1234", "XX", .unknownCountry("XX")),
        ("12345", "GB", .tooShort(place: "GB", digits: 5, minimum: 7)),
        ("020 7946", "GB", .tooShort(place: "GB", digits: 6, minimum: 7)),
        ("020 7946 0958 1234", "GB", .tooLong(place: "GB", digits: 14, maximum: 10)),
        ("+33 6 12 34 56", nil, .tooShort(place: "FR", digits: 7, minimum: 9)),
        ("0803 123 4567", "NG", .nationalFormUnknown(country: "NG", callingCode: "234")),
        ("1234 5678", "BV", .nationalFormUnknown(country: "BV", callingCode: nil)),
        ("727 123 4567", "KZ", .nationalFormUnknown(country: "KZ", callingCode: "7")),
        ("1-800-FLOWERS", "US", .invalidCharacter("F")),
        ("Tel. 020 7946 0958", "GB", .invalidCharacter("T")),
        ("020 7946 0958 (mobile)", "GB", .invalidCharacter("m")),
        ("44+20 7946 0958", nil, .misplacedPlus),
        ("++44 20 7946 0958", nil, .misplacedPlus),
        ("+1 055 201 3344", nil, .invalidNANP("0552013344")),
        ("555 101 3344", "US", .invalidNANP("5551013344")),
        ("+44 20 7946 0958 x", nil, .invalidExtension("")),
        ("+44 20 7946 0958 ext 12a", nil, .invalidExtension("12a")),
        ("+1 555 201 3344 x12345678901", nil, .invalidExtension("12345678901")),
        ("+882 1234 5678 9012 3", nil, .tooLongForE164(digits: 16)),
    ]

    @Test(arguments: refused) func refusesWithAClearProblem(_ input: String, _ country: String?, _ problem: PhoneProblem) {
        #expect(PhoneNumber.parse(input, defaultCountry: country) == .failure(problem))
    }

    @Test func messagesSayWhatToDo() {
        #expect(PhoneProblem.unassignedCallingCode("999").message == "country code +999 is not assigned")
        #expect(PhoneProblem.needsCountry.message == "needs a country: a national number without + or 00 and no site country")
        #expect(PhoneProblem.noDigits.message == "no digits")
        #expect(
            PhoneProblem.tooShort(place: "GB", digits: 5, minimum: 7).message
                == "too short for GB (5 digits after the country code and trunk prefix; at least 7)")
        #expect(PhoneProblem.nationalFormUnknown(country: "NG", callingCode: "234").message == "write numbers of NG in international form (+234 …)")
    }

    /// A national number that also starts with the calling code is read nationally when that reading fits:
    /// `4930123456` at a German site is a Düsseldorf-length national number, not `+49 30 123456`.
    @Test func anAmbiguousNationalNumberIsReadNationally() throws {
        #expect(try PhoneNumber.parse("4930123456", defaultCountry: "DE").get().e164 == "+494930123456")
        #expect(try PhoneNumber.parse("+4930123456", defaultCountry: "DE").get().e164 == "+4930123456")
    }

    /// The same number written every way gives one E.164, so a caller matches whichever way a profile has it.
    @Test func everySpellingOfOneNumberIsOneE164() throws {
        let spellings = [
            ("+44 20 7946 0958", nil), ("+44 (0)20 7946 0958", nil), ("0044 20 7946 0958", nil), ("020 7946 0958", "GB"),
            ("02079460958", "GB"), ("tel:+44-20-7946-0958", nil), ("011 44 20 7946 0958", "US"), ("00 44 20 7946 0958", "DE"),
        ]
        let e164s = Set(try spellings.map { try PhoneNumber.parse($0.0, defaultCountry: $0.1).get().e164 })
        #expect(e164s == ["+442079460958"])
    }

    @Test(arguments: [
        ("2079460958", "GB", "+442079460958"), ("02079460958", "GB", "+442079460958"), ("612345678", "FR", "+33612345678"),
        ("0612345678", "FR", "+33612345678"), ("0612345678", "IT", "+390612345678"), ("5552013344", "US", "+15552013344"),
        ("15552013344", "US", "+15552013344"), ("911234567", "ES", "+34911234567"), ("30123456", "DE", "+4930123456"),
        ("030123456", "DE", "+4930123456"), ("0298765432", "AU", "+61298765432"),
    ])
    func storedDigitsGiveTheirE164(_ digits: String, _ country: String, _ e164: String) {
        #expect(PhoneNumber.e164(nationalDigits: digits, country: country) == e164)
    }

    @Test func storedDigitsThatAreNoNumberGiveNil() {
        #expect(PhoneNumber.e164(nationalDigits: "12", country: "GB") == nil)
        #expect(PhoneNumber.e164(nationalDigits: "020 7946", country: "GB") == nil, "stored numbers are digits only")
        #expect(PhoneNumber.e164(nationalDigits: "2079460958", country: "ZZ") == nil)
        #expect(PhoneNumber.e164(nationalDigits: "", country: "GB") == nil)
    }

    @Test func theTableCoversTheCountriesHelpDesksServe() {
        let plans = NumberingPlan.known
        #expect(plans.count >= 30)
        for country in [
            "US", "CA", "GB", "IE", "DE", "FR", "NL", "BE", "LU", "CH", "AT", "IT", "ES", "PT", "DK", "SE", "NO", "FI", "PL", "CZ", "AU", "NZ", "JP", "SG",
            "HK", "IN", "ZA", "BR", "MX", "AE", "IL",
        ] {
            #expect(plans[country] != nil, "\(country)")
        }
        for (country, plan) in plans {
            #expect(Countries.isValid(country), "\(country)")
            #expect(NumberingPlan.callingCodes.contains(plan.callingCode), "\(country)")
            #expect(plan.callingCode.count + plan.lengths.upperBound <= PhoneNumber.maxDigits, "\(country)")
        }
        #expect(plans["IT"]?.trunkPrefix == nil && plans["ES"]?.trunkPrefix == nil, "Italy and Spain have no trunk prefix to drop")
        #expect(NumberingPlan.nanpAreaCodes.keys.allSatisfy { plans[$0]?.callingCode == "1" }, "every NANP country is +1")
        for country in NumberingPlan.mainCountry.values { #expect(Countries.isValid(country), "\(country)") }
        #expect(Set(NumberingPlan.mainCountry.values).count == NumberingPlan.mainCountry.count, "a country is one code's main country at most")
        let withoutCode = Countries.alpha2.filter { NumberingPlan.callingCodeOfCountry[$0] == nil }
        #expect(withoutCode == ["BV", "HM", "UM"], "every inhabited country has its calling code")
        for (country, code) in NumberingPlan.callingCodeOfCountry {
            #expect(Countries.isValid(country) && NumberingPlan.callingCodes.contains(code), "\(country)")
            if let plan = plans[country] { #expect(plan.callingCode == code, "\(country)") }
        }
        // Calling codes are prefix-free, so reading 1 to 3 digits is never ambiguous.
        for code in NumberingPlan.callingCodes {
            for other in NumberingPlan.callingCodes where other != code { #expect(!other.hasPrefix(code), "\(code) and \(other)") }
        }
    }

    @Test func phoneNumbersAreCodable() throws {
        let phone = try PhoneNumber.parse("+44 20 7946 0958 x12", defaultCountry: nil).get()
        let decoded = try JSONDecoder().decode(PhoneNumber.self, from: try JSONEncoder().encode(phone))
        #expect(decoded == phone)
    }
}
