/// What Tandem knows of a country's telephone numbering: enough to turn a number written the way people of that
/// country write it into E.164, and to refuse numbers that cannot be right. Not a full numbering plan (no
/// per-prefix lengths): a help desk matches callers on E.164, so what matters is that every way of writing one
/// number gives the same E.164.
public struct NumberingPlan: Sendable, Equatable {
    /// ISO 3166 alpha-2.
    public var country: String
    /// Without `+` ("44").
    public var callingCode: String
    /// Dialled before a national number inside the country and not part of the E.164 ("0" in GB, "1" in the
    /// NANP, "8" in Russia, "06" in Hungary); nil where there is none (Italy's leading 0 is part of the number).
    public var trunkPrefix: String?
    /// The national significant number's length, without trunk prefix.
    public var lengths: ClosedRange<Int>
    /// The international call prefix dialled from this country when it is not `00` ("011" in the NANP).
    public var internationalPrefix: String

    init(_ country: String, _ callingCode: String, trunk: String?, _ lengths: ClosedRange<Int>, international: String = "00") {
        self.country = country
        self.callingCode = callingCode
        self.trunkPrefix = trunk
        self.lengths = lengths
        self.internationalPrefix = international
    }

    /// Where a national number's leading 0 is dialled from abroad too: `+39 06 …` is Rome, `+39 6 …` is not.
    public static let leadingZeroIsPartOfNumber: Set<String> = ["IT", "SM", "VA"]

    /// The length of a national significant number when nothing better is known.
    public static let defaultLengths = 4...14

    /// Countries whose national dialling Tandem knows. A country missing here still takes numbers in
    /// international form (`+234 …`); its national form is refused rather than guessed.
    public static let known: [String: NumberingPlan] = {
        var plans: [NumberingPlan] = [
            // Europe
            .init("GB", "44", trunk: "0", 7...10), .init("GG", "44", trunk: "0", 10...10), .init("JE", "44", trunk: "0", 10...10),
            .init("IM", "44", trunk: "0", 10...10), .init("IE", "353", trunk: "0", 7...10), .init("DE", "49", trunk: "0", 5...13),
            .init("FR", "33", trunk: "0", 9...9), .init("MC", "377", trunk: nil, 8...9), .init("NL", "31", trunk: "0", 7...10),
            .init("BE", "32", trunk: "0", 8...9), .init("LU", "352", trunk: nil, 4...11), .init("CH", "41", trunk: "0", 9...9),
            .init("LI", "423", trunk: nil, 7...9), .init("AT", "43", trunk: "0", 4...13), .init("IT", "39", trunk: nil, 6...11),
            .init("SM", "378", trunk: nil, 6...10), .init("VA", "39", trunk: nil, 6...11), .init("ES", "34", trunk: nil, 9...9),
            .init("PT", "351", trunk: nil, 9...9), .init("DK", "45", trunk: nil, 8...8), .init("SE", "46", trunk: "0", 7...10),
            .init("NO", "47", trunk: nil, 5...8), .init("FI", "358", trunk: "0", 5...12), .init("IS", "354", trunk: nil, 7...9),
            .init("PL", "48", trunk: nil, 9...9), .init("CZ", "420", trunk: nil, 9...9), .init("SK", "421", trunk: "0", 9...9),
            .init("HU", "36", trunk: "06", 8...9), .init("GR", "30", trunk: nil, 10...10), .init("EE", "372", trunk: nil, 7...8),
            .init("RU", "7", trunk: "8", 10...10, international: "810"),
            // Asia and Oceania
            .init("AU", "61", trunk: "0", 6...10, international: "0011"), .init("NZ", "64", trunk: "0", 8...10),
            .init("JP", "81", trunk: "0", 9...10, international: "010"), .init("SG", "65", trunk: nil, 8...8),
            .init("HK", "852", trunk: nil, 8...8), .init("IN", "91", trunk: "0", 10...10), .init("CN", "86", trunk: "0", 9...11),
            .init("KR", "82", trunk: "0", 8...10), .init("AE", "971", trunk: "0", 8...9), .init("IL", "972", trunk: "0", 8...9),
            .init("TR", "90", trunk: "0", 10...10),
            // Africa and Latin America
            .init("ZA", "27", trunk: "0", 9...9), .init("BR", "55", trunk: "0", 10...11), .init("MX", "52", trunk: nil, 10...10),
        ]
        // The North American Numbering Plan: one calling code, ten digits, `1` as trunk prefix.
        plans += nanpAreaCodes.keys.sorted().map { .init($0, "1", trunk: "1", 10...10, international: "011") }
        plans.append(.init("US", "1", trunk: "1", 10...10, international: "011"))
        return Dictionary(plans.map { ($0.country, $0) }, uniquingKeysWith: { first, _ in first })
    }()

    /// The country a calling code belongs to when one country stands for it (`44` → GB, not GG, JE or IM;
    /// `1` → US, unless the area code says otherwise).
    static let mainCountry: [String: String] = {
        var main: [String: String] = [:]
        for entry in assigned.split(whereSeparator: \.isWhitespace) {
            let parts = entry.split(separator: ":")
            if parts.count == 2 { main[String(parts[0])] = String(parts[1]) }
        }
        return main
    }()

    static let callingCodeOfCountry: [String: String] = {
        var codes = Dictionary(mainCountry.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        // Countries that are no calling code's main country.
        let sharing = "KZ:7 SJ:47 AX:358 YT:262 TF:262 BQ:599 BL:590 MF:590 CC:61 CX:61 EH:212 GS:500 PN:64 AQ:672 GG:44 JE:44 IM:44 VA:39"
        for entry in sharing.split(separator: " ") {
            let parts = entry.split(separator: ":")
            codes[String(parts[0])] = String(parts[1])
        }
        for (country, _) in nanpAreaCodes { codes[country] = "1" }
        return codes
    }()

    /// Every calling code the ITU has assigned, with the main country where there is one (none for the
    /// non-geographic services such as +800). Calling codes are prefix-free, so reading 1 to 3 digits finds one.
    static let callingCodes: Set<String> = Set(assigned.split(whereSeparator: \.isWhitespace).map { String($0.split(separator: ":")[0]) })

    private static let assigned = """
        1:US 7:RU 20:EG 27:ZA 30:GR 31:NL 32:BE 33:FR 34:ES 36:HU 39:IT 40:RO 41:CH 43:AT 44:GB 45:DK 46:SE 47:NO 48:PL 49:DE
        51:PE 52:MX 53:CU 54:AR 55:BR 56:CL 57:CO 58:VE 60:MY 61:AU 62:ID 63:PH 64:NZ 65:SG 66:TH 81:JP 82:KR 84:VN 86:CN
        90:TR 91:IN 92:PK 93:AF 94:LK 95:MM 98:IR
        211:SS 212:MA 213:DZ 216:TN 218:LY 220:GM 221:SN 222:MR 223:ML 224:GN 225:CI 226:BF 227:NE 228:TG 229:BJ
        230:MU 231:LR 232:SL 233:GH 234:NG 235:TD 236:CF 237:CM 238:CV 239:ST 240:GQ 241:GA 242:CG 243:CD 244:AO
        245:GW 246:IO 247 248:SC 249:SD 250:RW 251:ET 252:SO 253:DJ 254:KE 255:TZ 256:UG 257:BI 258:MZ 260:ZM
        261:MG 262:RE 263:ZW 264:NA 265:MW 266:LS 267:BW 268:SZ 269:KM 290:SH 291:ER 297:AW 298:FO 299:GL
        350:GI 351:PT 352:LU 353:IE 354:IS 355:AL 356:MT 357:CY 358:FI 359:BG 370:LT 371:LV 372:EE 373:MD 374:AM
        375:BY 376:AD 377:MC 378:SM 379:VA 380:UA 381:RS 382:ME 383 385:HR 386:SI 387:BA 389:MK 420:CZ 421:SK 423:LI
        500:FK 501:BZ 502:GT 503:SV 504:HN 505:NI 506:CR 507:PA 508:PM 509:HT 590:GP 591:BO 592:GY 593:EC 594:GF
        595:PY 596:MQ 597:SR 598:UY 599:CW 670:TL 672:NF 673:BN 674:NR 675:PG 676:TO 677:SB 678:VU 679:FJ 680:PW
        681:WF 682:CK 683:NU 685:WS 686:KI 687:NC 688:TV 689:PF 690:TK 691:FM 692:MH 800 808 850:KP 852:HK 853:MO
        855:KH 856:LA 870 878 880:BD 881 882 883 886:TW 888 960:MV 961:LB 962:JO 963:SY 964:IQ 965:KW 966:SA 967:YE
        968:OM 970:PS 971:AE 972:IL 973:BH 974:QA 975:BT 976:MN 977:NP 979 992:TJ 993:TM 994:AZ 995:GE 996:KG 998:UZ
        """

    /// The NANP's area codes outside the United States: the country of a `+1` number is read from them.
    static let nanpAreaCodes: [String: [String]] = [
        "CA": [
            "204", "226", "236", "249", "250", "263", "289", "306", "343", "354", "365", "367", "368", "382", "403", "416", "418", "428",
            "431", "437", "438", "450", "468", "474", "506", "514", "519", "548", "579", "581", "584", "587", "604", "613", "639", "647",
            "672", "683", "705", "709", "742", "753", "778", "780", "782", "807", "819", "825", "867", "873", "879", "902", "905", "942",
        ],
        "AG": ["268"], "AI": ["264"], "AS": ["684"], "BB": ["246"], "BM": ["441"], "BS": ["242"], "DM": ["767"],
        "DO": ["809", "829", "849"], "GD": ["473"], "GU": ["671"], "JM": ["876", "658"], "KN": ["869"], "KY": ["345"],
        "LC": ["758"], "MP": ["670"], "MS": ["664"], "PR": ["787", "939"], "SX": ["721"], "TC": ["649"], "TT": ["868"],
        "VC": ["784"], "VG": ["284"], "VI": ["340"],
    ]

    static let nanpCountryByAreaCode: [String: String] = {
        var byCode: [String: String] = [:]
        for (country, codes) in nanpAreaCodes { for code in codes { byCode[code] = country } }
        return byCode
    }()

    /// The plan for a country, known or not: a country Tandem knows only by its calling code gets default
    /// lengths and no national dialling (`nationalDialling == false`).
    static func plan(for country: String) -> (plan: NumberingPlan, nationalDialling: Bool)? {
        if let plan = known[country] { return (plan, true) }
        guard let code = callingCodeOfCountry[country] else { return nil }
        return (NumberingPlan(country, code, trunk: nil, defaultLengths), false)
    }

    /// The calling code a string of digits starts with, if any is assigned.
    static func callingCode(prefixOf digits: String) -> String? {
        for length in 1...3 where digits.count >= length {
            let candidate = String(digits.prefix(length))
            if callingCodes.contains(candidate) { return candidate }
        }
        return nil
    }

    /// Countries that share a calling code with a bigger one, told apart by how their numbers start: the
    /// Crown Dependencies' landlines, Kazakhstan in +7, the Vatican in +39, Svalbard, Åland, Mayotte, Bonaire.
    /// Where nothing tells (a Jersey mobile), the calling code's main country is named.
    static let sharedCodeAreas: [String: [(prefix: String, country: String)]] = [
        "44": [("1481", "GG"), ("1534", "JE"), ("1624", "IM")], "7": [("6", "KZ"), ("7", "KZ")], "39": [("06698", "VA")],
        "47": [("79", "SJ")], "358": [("18", "AX")], "262": [("269", "YT"), ("639", "YT")], "599": [("7", "BQ")],
    ]

    /// The country a number belongs to, read from the number alone (never from the site's country, so a
    /// London caller of a Jersey site is in GB): the NANP area code's, a shared code's area, else the calling
    /// code's main country; nil for non-geographic services (+800).
    static func country(callingCode: String, national: String) -> String? {
        if callingCode == "1" { return nanpCountryByAreaCode[String(national.prefix(3))] ?? "US" }
        if let area = sharedCodeAreas[callingCode]?.first(where: { national.hasPrefix($0.prefix) }) { return area.country }
        return mainCountry[callingCode]
    }
}
