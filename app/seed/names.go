package seed

var firstNames = []string{
	"Aiko", "Alejandro", "Amara", "Anders", "Ana", "Arjun", "Beatriz", "Bjorn", "Camille", "Chen", "Chloe", "Dario",
	"Deepa", "Diego", "Elena", "Emeka", "Emma", "Farah", "Felix", "Fatima", "Gabriel", "Greta", "Hana", "Hugo",
	"Ines", "Ivan", "Jamal", "Jana", "Jonas", "Julia", "Kai", "Kenji", "Lars", "Leila", "Liam", "Lucia",
	"Malik", "Maria", "Mateo", "Maya", "Mei", "Mikko", "Nadia", "Nia", "Noah", "Olga", "Omar", "Paula",
	"Pedro", "Priya", "Quentin", "Rafael", "Rosa", "Sami", "Sara", "Sean", "Sofia", "Tariq", "Tomas", "Uma",
	"Valentina", "Viktor", "Wei", "Yara", "Yusuf", "Zoe",
}

var lastNames = []string{
	"Abe", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Bianchi", "Brown", "Castillo", "Chowdhury", "Costa", "Dubois",
	"Eriksson", "Fernandes", "Fischer", "Garcia", "Gupta", "Haddad", "Hansen", "Hoffmann", "Ivanova", "Jansen", "Kim", "Kowalski",
	"Kumar", "Larsen", "Laurent", "Lee", "Lindqvist", "Lopez", "Martin", "Meyer", "Moreau", "Nakamura", "Nguyen", "Novak",
	"Okafor", "Olsen", "Park", "Patel", "Perez", "Petrov", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith",
	"Sorensen", "Suzuki", "Tanaka", "Taylor", "Virtanen", "Wagner", "Wang", "Weber", "Williams", "Yilmaz", "Zhang", "Zielinski",
}

var keyPurposes = []string{
	"Jira worklog sync", "Payroll export", "BI dashboard", "Timesheet reminder bot", "Invoice integration", "Capacity planner import",
	"Slack worklog bot", "Power BI refresh", "Budget report", "Cost tracker feed", "Data warehouse loader", "Approval reminders",
	"Team roster sync", "Holiday calendar import", "Customer billing", "Account mapping script", "Quarterly audit export",
	"Zapier automation", "Looker connector", "Excel add-in", "CI time tracking", "Salesforce sync", "Resource forecast",
	"Weekly status report", "ERP connector", "Backfill script", "Migration from Harvest", "Personal scripts", "Test key",
}

var keySuffixes = []string{"", "", "", " (prod)", " (staging)", " v2", " – old", " EU", " US"}

var userAgents = []string{
	"curl/8.5.0", "python-requests/2.31.0", "PowerBI/2.128", "node-fetch/1.0", "Zapier", "Go-http-client/1.1",
	"Apache-HttpClient/4.5.14 (Java/17.0.9)", "Microsoft Office Excel 2016", "axios/1.6.7", "Salesforce-Integration/58.0",
}

var revokeReasons = []string{
	"Rotated after the contractor left", "Leaked in a public repository", "No longer used", "Owner left the company",
	"Replaced by an OAuth app", "Too broad: replaced by a view-only key", "Security review Q3", "Duplicate of another key",
}

var apiPaths = []string{
	"/4/worklogs", "/4/worklogs/search", "/4/worklogs/user/%s", "/4/teams", "/4/teams/%d/members", "/4/plans",
	"/4/plans/search", "/4/accounts", "/4/accounts/search", "/4/periods", "/4/timesheet-approvals/user/%s",
	"/4/work-attributes", "/4/user-schedule", "/4/holiday-schemes", "/4/customers", "/4/projects",
}
