/// Mail domains anyone can have an address at (SPEC §6): they can never identify a site, so they cannot be a
/// client email domain, and mail from them is held for triage unless the sender is a known contact. Built in,
/// plus what the installation adds (a regional provider its clients use).
public struct PublicMailDomains: Sendable, Equatable {
    public static let builtIn: Set<String> = Set(
        """
        gmail.com googlemail.com outlook.com outlook.fr outlook.de outlook.es outlook.it outlook.co.uk hotmail.com hotmail.co.uk
        hotmail.fr hotmail.de hotmail.es hotmail.it hotmail.nl hotmail.be hotmail.ca hotmail.com.au hotmail.co.jp live.com live.co.uk
        live.fr live.de live.nl live.ca live.com.au msn.com passport.com windowslive.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de
        yahoo.es yahoo.it yahoo.ca yahoo.com.au yahoo.co.jp yahoo.co.in yahoo.com.br yahoo.com.mx ymail.com rocketmail.com
        icloud.com me.com mac.com aol.com aol.co.uk aim.com proton.me protonmail.com protonmail.ch pm.me gmx.com gmx.de gmx.net
        gmx.at gmx.ch gmx.fr gmx.co.uk web.de t-online.de freenet.de mail.com email.com zoho.com zohomail.com yandex.ru yandex.com
        ya.ru mail.ru inbox.ru list.ru bk.ru rambler.ru orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it virgilio.it
        tiscali.it btinternet.com sky.com virginmedia.com talktalk.net ntlworld.com comcast.net verizon.net att.net sbcglobal.net
        bellsouth.net cox.net charter.net earthlink.net optonline.net shaw.ca rogers.com sympatico.ca bigpond.com optusnet.com.au
        xtra.co.nz seznam.cz wp.pl o2.pl onet.pl interia.pl qq.com 163.com 126.com sina.com naver.com daum.net hanmail.net
        rediffmail.com fastmail.com fastmail.fm hushmail.com tutanota.com tuta.io posteo.de mailbox.org gmx.us hey.com
        """.split(whereSeparator: \.isWhitespace).map(String.init))

    /// The installation's additions, normalized.
    public private(set) var extra: Set<String>
    /// Additions that are not domains, for the server to report at start rather than silently never match.
    public private(set) var rejectedExtra: [String]

    public init(extra: [String] = []) {
        var accepted: Set<String> = [], rejected: [String] = []
        for entry in extra {
            switch MailDomain.normalize(entry) {
            case .success(let domain): accepted.insert(domain)
            case .failure: rejected.append(entry)
            }
        }
        self.extra = accepted
        self.rejectedExtra = rejected
    }

    /// Exact: `mail.gmail.com` is not public by this list (it is nobody's mail domain either).
    public func isPublic(_ domain: String) -> Bool {
        guard let domain = try? MailDomain.normalize(domain).get() else { return false }
        return Self.builtIn.contains(domain) || extra.contains(domain)
    }
}
