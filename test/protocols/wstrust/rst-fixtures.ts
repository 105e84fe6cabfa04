/**
 * RSTs exactly as the clients of entra-federation.md §3.2 build them, written from their sources,
 * never from fedgate's writer:
 *  - MSAL Python's wstrust_request.py `_build_rst` (S19): single-quoted attributes, indentation,
 *    Timestamp before UsernameToken, seconds without fractions, +10 minutes, the password escaped
 *    with & " ' < >;
 *  - Exchange's federated-STS client (S40): an XML declaration, WS-Trust 2005 only, an extra
 *    ps:AuthInfo header, wsse:Security without mustUnderstand, UsernameToken before Timestamp,
 *    .NET "o" timestamps (seven fraction digits), +5 minutes, no SOAPAction header.
 */
export const ACTION = {
  '2005': 'http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue',
  '13': 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue',
} as const;

export type Version = keyof typeof ACTION;

export const ENTRA_AUDIENCE = 'urn:federation:MicrosoftOnline';

export interface RstOptions {
  readonly username: string;
  readonly password: string;
  readonly appliesTo?: string;
  /** The client's clock (default now). */
  readonly now?: Date;
  readonly messageId?: string;
  readonly endpoint?: string;
}

export const endpointPath = (version: Version) => `/adfs/services/trust/${version}/usernamemixed`;

/** MSAL's wsu_time_format: '%Y-%m-%dT%H:%M:%SZ'. */
const msalTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

/** MSAL's escape_password. */
const msalEscape = (p: string) => p.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** wstrust_request.py _build_rst, for the 2005 or the 1.3 action. */
export function msalRst(version: Version, o: RstOptions): string {
  const now = o.now ?? new Date();
  const is13 = version === '13';
  const wst = is13 ? 'http://docs.oasis-open.org/ws-sx/ws-trust/200512' : 'http://schemas.xmlsoap.org/ws/2005/02/trust';
  const keyType = is13 ? 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer' : 'http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey';
  const requestType = is13 ? 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue' : 'http://schemas.xmlsoap.org/ws/2005/02/trust/Issue';
  return `<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:wsa='http://www.w3.org/2005/08/addressing' xmlns:wsu='http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'>
        <s:Header>
            <wsa:Action s:mustUnderstand='1'>${ACTION[version]}</wsa:Action>
            <wsa:MessageID>urn:uuid:${o.messageId ?? crypto.randomUUID()}</wsa:MessageID>
            <wsa:ReplyTo>
            <wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address>
            </wsa:ReplyTo>
            <wsa:To s:mustUnderstand='1'>${o.endpoint ?? `https://sts.contoso.test${endpointPath(version)}`}</wsa:To>

            <wsse:Security s:mustUnderstand='1'
            xmlns:wsse='http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'>
                <wsu:Timestamp wsu:Id='_0'>
                    <wsu:Created>${msalTime(now)}</wsu:Created>
                    <wsu:Expires>${msalTime(new Date(now.getTime() + 10 * 60_000))}</wsu:Expires>
                </wsu:Timestamp>
                <wsse:UsernameToken wsu:Id='ADALUsernameToken'>
                    <wsse:Username>${o.username}</wsse:Username>
                    <wsse:Password>${msalEscape(o.password)}</wsse:Password>
                </wsse:UsernameToken>
            </wsse:Security>

        </s:Header>
        <s:Body>
        <wst:RequestSecurityToken xmlns:wst='${wst}'>
        <wsp:AppliesTo xmlns:wsp='http://schemas.xmlsoap.org/ws/2004/09/policy'>
            <wsa:EndpointReference>
                <wsa:Address>${o.appliesTo ?? ENTRA_AUDIENCE}</wsa:Address>
            </wsa:EndpointReference>
        </wsp:AppliesTo>
        <wst:KeyType>${keyType}</wst:KeyType>
            <wst:RequestType>${requestType}</wst:RequestType>
        </wst:RequestSecurityToken>
        </s:Body>
        </s:Envelope>`;
}

/** MSAL's HTTP headers (wstrust_request.py send_request). */
export const msalHeaders = (version: Version) => ({ 'Content-Type': 'application/soap+xml; charset=utf-8', SOAPAction: ACTION[version] });

/** .NET DateTime.ToString("o") of a UTC time: seven fraction digits. */
const dotnetTime = (d: Date) => `${d.toISOString().slice(0, 23)}0000Z`;

/** FederatedSTS.cs stsRequestBytesP1…P8 (user name and password are written as raw bytes, unescaped). */
export function exchangeRst(o: RstOptions): string {
  const now = o.now ?? new Date();
  return '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wssc="http://schemas.xmlsoap.org/ws/2005/02/sc" xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust"><s:Header><wsa:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue</wsa:Action><wsa:To s:mustUnderstand="1">'
    + (o.endpoint ?? `https://sts.contoso.test${endpointPath('2005')}`)
    + '</wsa:To><wsa:MessageID>' + `urn:uuid:${o.messageId ?? crypto.randomUUID()}`
    + '</wsa:MessageID><ps:AuthInfo xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="PPAuthInfo"><ps:HostingApp>{DF60E2DF-88AD-4526-AE21-83D130EF0F68}</ps:HostingApp><ps:BinaryVersion>6</ps:BinaryVersion><ps:UIVersion>1</ps:UIVersion><ps:Cookies></ps:Cookies><ps:RequestParams>AQAAAAIAAABsYwQAAAAxMDMz</ps:RequestParams></ps:AuthInfo><wsse:Security><wsse:UsernameToken wsu:Id="user"><wsse:Username>'
    + o.username + '</wsse:Username><wsse:Password>' + o.password
    + '</wsse:Password></wsse:UsernameToken><wsu:Timestamp Id="Timestamp"><wsu:Created>' + dotnetTime(now)
    + '</wsu:Created><wsu:Expires>' + dotnetTime(new Date(now.getTime() + 5 * 60_000))
    + '</wsu:Expires></wsu:Timestamp></wsse:Security></s:Header><s:Body><wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>'
    + (o.appliesTo ?? ENTRA_AUDIENCE)
    + '</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wst:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</wst:KeyType></wst:RequestSecurityToken></s:Body></s:Envelope>';
}

/** Exchange sets only the Content-Type (FederatedSTS.StartRequestChain). */
export const exchangeHeaders = { 'Content-Type': 'application/soap+xml; charset=utf-8' };
