"""EN 16931 as OASIS UBL 2.1 Invoice or CreditNote.

Elements follow the sequence of the UBL 2.1 XSD, which differs between Invoice and
CreditNote (DueDate, ProjectReference, AllowanceCharge, and the line's TaxTotal position).
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from punchclock.invoicing.documents.einvoice.model import (
    EN16931,
    Address,
    Allowance,
    EInvoice,
    Line,
    Party,
    Specification,
    number,
)

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
PROJECT_REFERENCE = "50"  # UNTDID 1001, BT-11 on a CreditNote, which has no ProjectReference


def to_ubl(einvoice: EInvoice, specification: Specification = EN16931) -> bytes:
    return _Writer(einvoice).document(specification)


class _Writer:
    def __init__(self, einvoice: EInvoice) -> None:
        self.e = einvoice
        self.credit = einvoice.is_credit_note

    def cbc(self, parent: etree._Element, name: str, text: str, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{CBC}}}{name}", attrs)
        element.text = text
        return element

    def cac(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def money(self, parent: etree._Element, name: str, amount: Decimal) -> None:
        self.cbc(parent, name, self.e.amount(amount), currencyID=self.e.currency)

    def document(self, specification: Specification) -> bytes:
        e, credit = self.e, self.credit
        root_ns, root_name = (CREDIT_NOTE_NS, "CreditNote") if credit else (INVOICE_NS, "Invoice")
        root = etree.Element(
            f"{{{root_ns}}}{root_name}", nsmap={None: root_ns, "cac": CAC, "cbc": CBC}
        )
        self.cbc(root, "CustomizationID", specification.customization_id)
        if specification.profile_id:
            self.cbc(root, "ProfileID", specification.profile_id)
        self.cbc(root, "ID", e.number)
        self.cbc(root, "IssueDate", e.issue_date.isoformat())
        if e.due_date and not credit:
            self.cbc(root, "DueDate", e.due_date.isoformat())
        self.cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", e.type_code)
        for note in e.notes:
            self.cbc(root, "Note", note)
        self.cbc(root, "DocumentCurrencyCode", e.currency)
        if e.tax_currency:
            self.cbc(root, "TaxCurrencyCode", e.tax_currency)
        if e.buyer_reference:
            self.cbc(root, "BuyerReference", e.buyer_reference)
        if e.period_start and e.period_end:
            period = self.cac(root, "InvoicePeriod")
            self.cbc(period, "StartDate", e.period_start.isoformat())
            self.cbc(period, "EndDate", e.period_end.isoformat())
        if e.purchase_order_reference:
            self.cbc(self.cac(root, "OrderReference"), "ID", e.purchase_order_reference)
        if e.preceding_invoice:
            reference = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(reference, "ID", e.preceding_invoice.number)
            if e.preceding_invoice.issue_date:
                self.cbc(reference, "IssueDate", e.preceding_invoice.issue_date.isoformat())
        if e.contract_reference:
            self.cbc(self.cac(root, "ContractDocumentReference"), "ID", e.contract_reference)
        if e.project_reference:
            if credit:
                reference = self.cac(root, "AdditionalDocumentReference")
                self.cbc(reference, "ID", e.project_reference)
                self.cbc(reference, "DocumentTypeCode", PROJECT_REFERENCE)
            else:
                self.cbc(self.cac(root, "ProjectReference"), "ID", e.project_reference)
        self.party(self.cac(root, "AccountingSupplierParty"), e.seller, seller=True)
        self.party(self.cac(root, "AccountingCustomerParty"), e.buyer, seller=False)
        if e.delivery_date or e.deliver_to_country:
            delivery = self.cac(root, "Delivery")
            if e.delivery_date:
                self.cbc(delivery, "ActualDeliveryDate", e.delivery_date.isoformat())
            if e.deliver_to_country:
                address = self.cac(self.cac(delivery, "DeliveryLocation"), "Address")
                self.cbc(self.cac(address, "Country"), "IdentificationCode", e.deliver_to_country)
        self.payment_means(root)
        self.cbc(self.cac(root, "PaymentTerms"), "Note", e.payment_terms)
        for allowance in e.allowances:
            self.allowance(root, allowance)
        self.tax_total(root)
        self.monetary_total(root)
        for line in e.lines:
            self.line(root, line)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def party(self, parent: etree._Element, party: Party, *, seller: bool) -> None:
        element = self.cac(parent, "Party")
        if party.electronic_address:
            self.cbc(
                element,
                "EndpointID",
                party.electronic_address.value,
                schemeID=party.electronic_address.scheme,
            )
        self.address(self.cac(element, "PostalAddress"), party.address)
        if party.vat_id:
            self.tax_scheme(element, party.vat_id, "VAT")
        if seller and party.tax_registration:
            # BT-32: any tax scheme other than VAT; "FC" as XRechnung's examples write it.
            self.tax_scheme(element, party.tax_registration, "FC")
        legal = self.cac(element, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", party.name)
        if party.legal_registration_id:
            self.cbc(legal, "CompanyID", party.legal_registration_id)
        if party.contact:
            contact = self.cac(element, "Contact")
            if party.contact.name:
                self.cbc(contact, "Name", party.contact.name)
            if party.contact.phone:
                self.cbc(contact, "Telephone", party.contact.phone)
            if party.contact.email:
                self.cbc(contact, "ElectronicMail", party.contact.email)

    def tax_scheme(self, party: etree._Element, company_id: str, scheme: str) -> None:
        element = self.cac(party, "PartyTaxScheme")
        self.cbc(element, "CompanyID", company_id)
        self.cbc(self.cac(element, "TaxScheme"), "ID", scheme)

    def address(self, element: etree._Element, address: Address) -> None:
        if address.line1:
            self.cbc(element, "StreetName", address.line1)
        if address.line2:
            self.cbc(element, "AdditionalStreetName", address.line2)
        if address.city:
            self.cbc(element, "CityName", address.city)
        if address.postal_code:
            self.cbc(element, "PostalZone", address.postal_code)
        if address.region:
            self.cbc(element, "CountrySubentity", address.region)
        self.cbc(self.cac(element, "Country"), "IdentificationCode", address.country)

    def payment_means(self, root: etree._Element) -> None:
        means = self.e.payment_means
        element = self.cac(root, "PaymentMeans")
        self.cbc(element, "PaymentMeansCode", means.code)
        if means.remittance:
            self.cbc(element, "PaymentID", means.remittance)
        if means.iban:
            account = self.cac(element, "PayeeFinancialAccount")
            self.cbc(account, "ID", means.iban)
            if means.account_name:
                self.cbc(account, "Name", means.account_name)
            if means.bic:
                self.cbc(self.cac(account, "FinancialInstitutionBranch"), "ID", means.bic)

    def allowance(self, parent: etree._Element, allowance: Allowance) -> None:
        element = self.cac(parent, "AllowanceCharge")
        self.cbc(element, "ChargeIndicator", "true" if allowance.charge else "false")
        self.cbc(element, "AllowanceChargeReasonCode", allowance.reason_code)
        self.cbc(element, "AllowanceChargeReason", allowance.reason)
        if allowance.percent is not None:
            self.cbc(element, "MultiplierFactorNumeric", number(allowance.percent))
        self.money(element, "Amount", allowance.amount)
        if allowance.base_amount is not None:
            self.money(element, "BaseAmount", allowance.base_amount)
        if allowance.category:
            self.category(element, "TaxCategory", allowance.category, allowance.rate)

    def category(
        self,
        parent: etree._Element,
        name: str,
        category: str,
        rate: Decimal | None,
        reason: str = "",
        reason_code: str = "",
    ) -> None:
        element = self.cac(parent, name)
        self.cbc(element, "ID", category)
        if rate is not None:
            self.cbc(element, "Percent", number(rate))
        if reason_code:
            self.cbc(element, "TaxExemptionReasonCode", reason_code)
        if reason:
            self.cbc(element, "TaxExemptionReason", reason)
        self.cbc(self.cac(element, "TaxScheme"), "ID", "VAT")

    def tax_total(self, root: etree._Element) -> None:
        e = self.e
        total = self.cac(root, "TaxTotal")
        self.money(total, "TaxAmount", e.totals.tax_total)
        for group in e.vat_breakdown:
            subtotal = self.cac(total, "TaxSubtotal")
            self.money(subtotal, "TaxableAmount", group.taxable_amount)
            self.money(subtotal, "TaxAmount", group.tax_amount)
            self.category(
                subtotal,
                "TaxCategory",
                group.category,
                group.rate,
                group.exemption_reason,
                group.exemption_reason_code,
            )
        if e.tax_currency and e.tax_total_in_tax_currency is not None:
            # BT-111: the second TaxTotal carries only the amount, in the tax currency.
            other = self.cac(root, "TaxTotal")
            self.cbc(
                other,
                "TaxAmount",
                f"{e.tax_total_in_tax_currency:.2f}",
                currencyID=e.tax_currency,
            )

    def monetary_total(self, root: etree._Element) -> None:
        totals = self.e.totals
        element = self.cac(root, "LegalMonetaryTotal")
        self.money(element, "LineExtensionAmount", totals.line_total)
        self.money(element, "TaxExclusiveAmount", totals.tax_exclusive)
        self.money(element, "TaxInclusiveAmount", totals.tax_inclusive)
        if any(not allowance.charge for allowance in self.e.allowances):
            self.money(element, "AllowanceTotalAmount", totals.allowance_total)
        if any(allowance.charge for allowance in self.e.allowances):
            self.money(element, "ChargeTotalAmount", totals.charge_total)
        self.money(element, "PayableAmount", totals.payable)

    def line(self, root: etree._Element, line: Line) -> None:
        credit = self.credit
        element = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        self.cbc(element, "ID", line.id)
        self.cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            number(line.quantity),
            unitCode=line.unit_code,
        )
        self.money(element, "LineExtensionAmount", line.net_amount)
        if line.allowance:
            self.allowance(element, line.allowance)
        if line.charge:
            self.allowance(element, line.charge)
        item = self.cac(element, "Item")
        self.cbc(item, "Name", line.item_name)
        self.category(item, "ClassifiedTaxCategory", line.category, line.rate)
        price = self.cac(element, "Price")
        self.cbc(price, "PriceAmount", number(line.net_price), currencyID=self.e.currency)
