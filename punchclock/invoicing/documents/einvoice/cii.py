"""EN 16931 as UN/CEFACT Cross Industry Invoice (D16B), as Factur-X and XRechnung use it.

Elements follow the sequence of the Factur-X EN16931 XSD. A credit note is TypeCode 381
with positive amounts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from punchclock.invoicing.documents.einvoice.model import (
    EN16931,
    Allowance,
    EInvoice,
    Line,
    Party,
    Specification,
    number,
)

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
DATE_FORMAT = "102"  # CCYYMMDD


def to_cii(einvoice: EInvoice, guideline: Specification = EN16931) -> bytes:
    return _Writer(einvoice).document(guideline)


class _Writer:
    def __init__(self, einvoice: EInvoice) -> None:
        self.e = einvoice

    def ram(
        self, parent: etree._Element, name: str, text: str | None = None, **attrs: str
    ) -> etree._Element:
        element = etree.SubElement(parent, f"{{{RAM}}}{name}", attrs)
        if text is not None:
            element.text = text
        return element

    def money(
        self, parent: etree._Element, name: str, amount: Decimal, *, currency: bool = False
    ) -> None:
        attrs = {"currencyID": self.e.currency} if currency else {}
        self.ram(parent, name, self.e.amount(amount), **attrs)

    def date(self, parent: etree._Element, name: str, value: date) -> None:
        wrapper = self.ram(parent, name)
        element = etree.SubElement(wrapper, f"{{{UDT}}}DateTimeString", format=DATE_FORMAT)
        element.text = value.strftime("%Y%m%d")

    def indicator(self, parent: etree._Element, value: bool) -> None:
        wrapper = self.ram(parent, "ChargeIndicator")
        etree.SubElement(wrapper, f"{{{UDT}}}Indicator").text = "true" if value else "false"

    def document(self, guideline: Specification) -> bytes:
        e = self.e
        root = etree.Element(
            f"{{{RSM}}}CrossIndustryInvoice",
            nsmap={"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT},
        )
        context = etree.SubElement(root, f"{{{RSM}}}ExchangedDocumentContext")
        if guideline.profile_id:
            process = self.ram(context, "BusinessProcessSpecifiedDocumentContextParameter")
            self.ram(process, "ID", guideline.profile_id)
        self.ram(
            self.ram(context, "GuidelineSpecifiedDocumentContextParameter"),
            "ID",
            guideline.customization_id,
        )

        header = etree.SubElement(root, f"{{{RSM}}}ExchangedDocument")
        self.ram(header, "ID", e.number)
        self.ram(header, "TypeCode", e.type_code)
        self.date(header, "IssueDateTime", e.issue_date)
        for note in e.notes:
            self.ram(self.ram(header, "IncludedNote"), "Content", note)

        transaction = etree.SubElement(root, f"{{{RSM}}}SupplyChainTradeTransaction")
        for line in e.lines:
            self.line(transaction, line)
        self.agreement(self.ram(transaction, "ApplicableHeaderTradeAgreement"))
        self.delivery(self.ram(transaction, "ApplicableHeaderTradeDelivery"))
        self.settlement(self.ram(transaction, "ApplicableHeaderTradeSettlement"))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def line(self, transaction: etree._Element, line: Line) -> None:
        item = self.ram(transaction, "IncludedSupplyChainTradeLineItem")
        self.ram(self.ram(item, "AssociatedDocumentLineDocument"), "LineID", line.id)
        self.ram(self.ram(item, "SpecifiedTradeProduct"), "Name", line.item_name)
        agreement = self.ram(item, "SpecifiedLineTradeAgreement")
        price = self.ram(agreement, "NetPriceProductTradePrice")
        self.ram(price, "ChargeAmount", number(line.net_price))
        delivery = self.ram(item, "SpecifiedLineTradeDelivery")
        self.ram(delivery, "BilledQuantity", number(line.quantity), unitCode=line.unit_code)
        settlement = self.ram(item, "SpecifiedLineTradeSettlement")
        self.tax(settlement, line.category, line.rate)
        if line.allowance:
            self.allowance(settlement, line.allowance)
        if line.charge:
            self.allowance(settlement, line.charge)
        summation = self.ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        self.money(summation, "LineTotalAmount", line.net_amount)

    def tax(
        self,
        parent: etree._Element,
        category: str,
        rate: Decimal | None,
        name: str = "ApplicableTradeTax",
    ) -> None:
        tax = self.ram(parent, name)
        self.ram(tax, "TypeCode", "VAT")
        self.ram(tax, "CategoryCode", category)
        if rate is not None:
            self.ram(tax, "RateApplicablePercent", number(rate))

    def allowance(self, parent: etree._Element, allowance: Allowance) -> None:
        element = self.ram(parent, "SpecifiedTradeAllowanceCharge")
        self.indicator(element, allowance.charge)
        if allowance.percent is not None:
            self.ram(element, "CalculationPercent", number(allowance.percent))
        if allowance.base_amount is not None:
            self.money(element, "BasisAmount", allowance.base_amount)
        self.money(element, "ActualAmount", allowance.amount)
        self.ram(element, "ReasonCode", allowance.reason_code)
        self.ram(element, "Reason", allowance.reason)
        if allowance.category:
            self.tax(element, allowance.category, allowance.rate, name="CategoryTradeTax")

    def agreement(self, agreement: etree._Element) -> None:
        e = self.e
        if e.buyer_reference:
            self.ram(agreement, "BuyerReference", e.buyer_reference)
        self.party(self.ram(agreement, "SellerTradeParty"), e.seller)
        self.party(self.ram(agreement, "BuyerTradeParty"), e.buyer)
        if e.purchase_order_reference:
            order = self.ram(agreement, "BuyerOrderReferencedDocument")
            self.ram(order, "IssuerAssignedID", e.purchase_order_reference)
        if e.contract_reference:
            contract = self.ram(agreement, "ContractReferencedDocument")
            self.ram(contract, "IssuerAssignedID", e.contract_reference)
        if e.project_reference:
            project = self.ram(agreement, "SpecifiedProcuringProject")
            self.ram(project, "ID", e.project_reference)
            # BT-11 has only an identifier; CII insists on a name, so it is repeated.
            self.ram(project, "Name", e.project_reference)

    def party(self, element: etree._Element, party: Party) -> None:
        self.ram(element, "Name", party.name)
        if party.legal_registration_id:
            legal = self.ram(element, "SpecifiedLegalOrganization")
            self.ram(legal, "ID", party.legal_registration_id)
        contact = party.contact
        if contact:
            trade_contact = self.ram(element, "DefinedTradeContact")
            if contact.name:
                self.ram(trade_contact, "PersonName", contact.name)
            if contact.phone:
                phone = self.ram(trade_contact, "TelephoneUniversalCommunication")
                self.ram(phone, "CompleteNumber", contact.phone)
            if contact.email:
                email = self.ram(trade_contact, "EmailURIUniversalCommunication")
                self.ram(email, "URIID", contact.email)
        address = self.ram(element, "PostalTradeAddress")
        for name, value in (
            ("PostcodeCode", party.address.postal_code),
            ("LineOne", party.address.line1),
            ("LineTwo", party.address.line2),
            ("CityName", party.address.city),
            ("CountryID", party.address.country),
            ("CountrySubDivisionName", party.address.region),
        ):
            if value:
                self.ram(address, name, value)
        if party.electronic_address:
            uri = self.ram(element, "URIUniversalCommunication")
            self.ram(
                uri,
                "URIID",
                party.electronic_address.value,
                schemeID=party.electronic_address.scheme,
            )
        if party.vat_id:
            self.ram(
                self.ram(element, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA"
            )
        if party.tax_registration:
            registration = self.ram(element, "SpecifiedTaxRegistration")
            self.ram(registration, "ID", party.tax_registration, schemeID="FC")

    def delivery(self, delivery: etree._Element) -> None:
        e = self.e
        if e.deliver_to_country:
            ship_to = self.ram(delivery, "ShipToTradeParty")
            address = self.ram(ship_to, "PostalTradeAddress")
            self.ram(address, "CountryID", e.deliver_to_country)
        if e.delivery_date:
            event = self.ram(delivery, "ActualDeliverySupplyChainEvent")
            self.date(event, "OccurrenceDateTime", e.delivery_date)

    def settlement(self, settlement: etree._Element) -> None:
        e = self.e
        means = e.payment_means
        if means.remittance:
            self.ram(settlement, "PaymentReference", means.remittance)
        if e.tax_currency:
            self.ram(settlement, "TaxCurrencyCode", e.tax_currency)
        self.ram(settlement, "InvoiceCurrencyCode", e.currency)
        payment = self.ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        self.ram(payment, "TypeCode", means.code)
        if means.iban:
            account = self.ram(payment, "PayeePartyCreditorFinancialAccount")
            self.ram(account, "IBANID", means.iban)
            if means.account_name:
                self.ram(account, "AccountName", means.account_name)
            if means.bic:
                institution = self.ram(payment, "PayeeSpecifiedCreditorFinancialInstitution")
                self.ram(institution, "BICID", means.bic)
        for group in e.vat_breakdown:
            tax = self.ram(settlement, "ApplicableTradeTax")
            self.money(tax, "CalculatedAmount", group.tax_amount)
            self.ram(tax, "TypeCode", "VAT")
            if group.exemption_reason:
                self.ram(tax, "ExemptionReason", group.exemption_reason)
            self.money(tax, "BasisAmount", group.taxable_amount)
            self.ram(tax, "CategoryCode", group.category)
            if group.exemption_reason_code:
                self.ram(tax, "ExemptionReasonCode", group.exemption_reason_code)
            if group.rate is not None:
                self.ram(tax, "RateApplicablePercent", number(group.rate))
        if e.period_start and e.period_end:
            period = self.ram(settlement, "BillingSpecifiedPeriod")
            self.date(period, "StartDateTime", e.period_start)
            self.date(period, "EndDateTime", e.period_end)
        for allowance in e.allowances:
            self.allowance(settlement, allowance)
        terms = self.ram(settlement, "SpecifiedTradePaymentTerms")
        self.ram(terms, "Description", e.payment_terms)
        if e.due_date:
            self.date(terms, "DueDateDateTime", e.due_date)
        summation = self.ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
        totals = e.totals
        self.money(summation, "LineTotalAmount", totals.line_total)
        if any(allowance.charge for allowance in e.allowances):
            self.money(summation, "ChargeTotalAmount", totals.charge_total)
        if any(not allowance.charge for allowance in e.allowances):
            self.money(summation, "AllowanceTotalAmount", totals.allowance_total)
        self.money(summation, "TaxBasisTotalAmount", totals.tax_exclusive)
        # BT-110 is the one amount that names its currency: BT-111 repeats it in BT-6.
        self.money(summation, "TaxTotalAmount", totals.tax_total, currency=True)
        if e.tax_currency and e.tax_total_in_tax_currency is not None:
            self.ram(
                summation,
                "TaxTotalAmount",
                f"{e.tax_total_in_tax_currency:.2f}",
                currencyID=e.tax_currency,
            )
        self.money(summation, "GrandTotalAmount", totals.tax_inclusive)
        self.money(summation, "DuePayableAmount", totals.payable)
        if e.preceding_invoice:
            reference = self.ram(settlement, "InvoiceReferencedDocument")
            self.ram(reference, "IssuerAssignedID", e.preceding_invoice.number)
            if e.preceding_invoice.issue_date:
                issued = self.ram(reference, "FormattedIssueDateTime")
                element = etree.SubElement(issued, f"{{{QDT}}}DateTimeString", format=DATE_FORMAT)
                element.text = e.preceding_invoice.issue_date.strftime("%Y%m%d")
